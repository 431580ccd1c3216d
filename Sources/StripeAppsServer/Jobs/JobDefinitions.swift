public import Foundation
public import Logging
public import StripeApps
public import StripeAppsAPI

/// The parameters of a job type, stored as JSON with each job; `jobName` names the type (as in swift-jobs).
///
/// ```swift
/// struct SyncCustomers: JobParameters {
///     static let jobName = "sync-customers"
///     let since: Date
/// }
/// ```
public protocol JobParameters: Codable, Sendable {
    /// The job type's name, stored with every job: keep it stable across releases.
    static var jobName: String { get }
}

/// How a failed job is retried.
public struct JobRetryStrategy: Sendable {
    /// The most runs, the first included.
    public let maxAttempts: Int
    private let delay: @Sendable (_ attempts: Int) -> Duration

    /// Exponential backoff with full jitter: before run `n + 1`, a random delay up to
    /// `min(maxBackoff, minBackoff × 2^(n−1))`, at least `minBackoff` (as swift-jobs' `exponentialJitter`).
    public static func exponentialJitter(
        maxAttempts: Int = 4,
        minBackoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(3600)
    ) -> JobRetryStrategy {
        JobRetryStrategy(maxAttempts: max(1, maxAttempts)) { attempts in
            let minimum = minBackoff.timeInterval
            let cap = min(maxBackoff.timeInterval, minimum * pow(2, Double(min(62, max(0, attempts - 1)))))
            return .milliseconds(Int64(Double.random(in: minimum...max(minimum, cap)) * 1000))
        }
    }

    /// One run only: a failure is final.
    public static let dontRetry = JobRetryStrategy(maxAttempts: 1) { _ in .zero }

    /// The delay before the next run after `attempts` runs, or `nil` when the job has no run left.
    public func delay(afterAttempts attempts: Int, maxAttempts: Int? = nil) -> Duration? {
        attempts < (maxAttempts ?? self.maxAttempts) ? delay(attempts) : nil
    }

    init(maxAttempts: Int, delay: @escaping @Sendable (Int) -> Duration) {
        self.maxAttempts = maxAttempts
        self.delay = delay
    }
}

/// Where, when and how urgently a pushed job runs.
public struct JobOptions: Sendable {
    /// The tenant the job works for; `nil` for a global job. An uninstall cancels the tenant's jobs.
    public var tenant: Tenant?
    /// When it may start; `nil`: at once.
    public var runAt: Date?
    /// Higher runs first.
    public var priority: Int
    /// A unique key: a second push with the same key stores nothing (one run per schedule slot).
    public var slotKey: String?

    /// Creates options.
    public init(tenant: Tenant? = nil, runAt: Date? = nil, priority: Int = 0, slotKey: String? = nil) {
        self.tenant = tenant
        self.runAt = runAt
        self.priority = priority
        self.slotKey = slotKey
    }
}

/// What a running job gets besides its parameters.
public struct JobExecutionContext: Sendable {
    /// The job's id.
    public let jobID: String
    /// This run's number, from 1.
    public let attempt: Int
    /// When the job was pushed.
    public let queuedAt: Date
    /// The tenant it works for, or `nil`.
    public let tenant: Tenant?
    /// The slot key of a scheduled run (`schedule:account:mode:unix-second`), or the key it was pushed with:
    /// the same on every retry and on every instance, so effects keyed by it happen once.
    public let slotKey: String?
    /// A logger with the job's id, name and tenant as metadata.
    public var logger: Logger
    let reportProgress: @Sendable (Double?, String?) async throws -> Void
    let access: TenantAccess?

    /// The tenant's Stripe client (the developer's key and `Stripe-Account`, its OAuth token or its restricted key,
    /// as the app's access type says).
    ///
    /// - Throws: ``JobError`` for a global job, or when the configuration gives no way to reach Stripe.
    public func stripe() async throws -> StripeClient {
        guard let tenant else { throw JobError("a global job has no tenant to call Stripe for") }
        guard let clients = access?.clients else {
            throw JobError("no Stripe access is configured (secret keys, or ENCRYPTION_KEYS for stored tokens)")
        }
        return try await clients.client(for: tenant)
    }

    /// The tenant's sealed secrets, such as a third-party API's key it gave the app.
    ///
    /// - Throws: ``JobError`` for a global job, or without `ENCRYPTION_KEYS`.
    public func credentials() throws -> TenantCredentials {
        guard tenant != nil else { throw JobError("a global job has no tenant credentials") }
        guard let credentials = access?.credentials else { throw JobError("ENCRYPTION_KEYS is not set") }
        return credentials
    }

    /// Records progress on the job (`fraction` from 0 to 1), shown by `jobs list`.
    public func progress(_ fraction: Double?, message: String? = nil) async throws {
        try await reportProgress(fraction, message)
    }

    /// A key derived from the job id and a step name, the same on every retry: use it for every POST to Stripe
    /// a job makes, so a retried run cannot create anything twice.
    public func idempotencyKey(step: String) -> String { "\(jobID):\(step)" }
}

/// The job types an application runs, by name.
public struct JobRegistry: Sendable {
    struct Registration: Sendable {
        let retryStrategy: JobRetryStrategy
        let timeout: Duration
        let run: @Sendable (_ parameters: String, _ context: JobExecutionContext) async throws -> Void
    }

    /// A registered schedule: what it pushes, when, for whom.
    struct Scheduled: Sendable {
        let name: String
        let schedule: JobSchedule
        let jobName: String
        let parameters: String
        let perInstallation: Bool
        let accuracy: JobSchedule.ScheduleAccuracy
        let grace: Duration
        let jitter: Duration
        let priority: Int
    }

    var registrations: [String: Registration] = [:]
    var schedules: [Scheduled] = []

    /// No job types.
    public init() {}

    /// Runs a job of a registered type at every slot of `schedule`: once globally, or once for every tenant whose
    /// installation is active at that slot (`perInstallation`). Each (schedule, tenant, slot) runs once across all
    /// instances; an uninstalled tenant gets no more runs, a reinstall resumes them.
    ///
    /// - Parameters:
    ///   - name: The schedule's stable name, its progress stored under it: 1 to 100 letters, digits, `.`, `-` and
    ///     `_` (it starts each of its jobs' slot keys). Adding a name twice throws.
    ///   - accuracy: What to do with slots missed while no instance ran, beyond `grace`.
    ///   - grace: How late a slot may still run as itself (60 s by default).
    ///   - jitter: A per-tenant delay window that spreads one slot's runs over the tenants.
    public mutating func addSchedule<Parameters: JobParameters>(
        _ name: String,
        _ schedule: JobSchedule,
        parameters: Parameters,
        perInstallation: Bool = false,
        accuracy: JobSchedule.ScheduleAccuracy = .latest,
        grace: Duration = .seconds(60),
        jitter: Duration = .zero,
        priority: Int = 0
    ) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard (1...100).contains(name.count), name.allSatisfy(allowed.contains) else {
            throw JobError("a schedule name is 1 to 100 letters, digits, dots, dashes and underscores")
        }
        guard !schedules.contains(where: { $0.name == name }) else {
            throw JobError("a schedule named \(name) is added already")
        }
        let json = String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self)
        schedules.append(
            Scheduled(
                name: name, schedule: schedule, jobName: Parameters.jobName, parameters: json,
                perInstallation: perInstallation, accuracy: accuracy, grace: grace, jitter: jitter, priority: priority))
    }

    /// Registers a job type: `execute` runs each job of it, with its decoded parameters.
    ///
    /// - Parameters:
    ///   - retryStrategy: How failures are retried; four runs with exponential backoff by default.
    ///   - timeout: The longest one run may take; past it the run is cancelled and fails (5 minutes by default).
    public mutating func registerJob<Parameters: JobParameters>(
        parameters: Parameters.Type,
        retryStrategy: JobRetryStrategy = .exponentialJitter(),
        timeout: Duration = .seconds(300),
        execute: @escaping @Sendable (Parameters, JobExecutionContext) async throws -> Void
    ) {
        registrations[Parameters.jobName] = Registration(retryStrategy: retryStrategy, timeout: timeout) {
            json, context in
            let parameters: Parameters
            do {
                parameters = try JSONDecoder().decode(Parameters.self, from: Data(json.utf8))
            } catch {
                throw UndecodableParameters(name: Parameters.jobName, reason: "\(error)")
            }
            try await execute(parameters, context)
        }
    }

    /// Whether any job type is registered.
    public var isEmpty: Bool { registrations.isEmpty }
}

/// Parameters stored with a job that its type cannot read: no run can succeed, so the job is dead at once.
struct UndecodableParameters: Error, CustomStringConvertible {
    let name: String
    let reason: String
    var description: String { "the parameters of this \(name) job cannot be decoded: \(reason.prefix(300))" }
}

extension JobRegistry.Scheduled {
    /// The slot key of one run: the schedule, the tenant (or `-`) and the slot's Unix second.
    static func slotKey(_ name: String, _ tenant: Tenant?, _ slot: Date) -> String {
        let owner = tenant.map { "\($0.accountID):\($0.mode)" } ?? "-"
        return "\(name):\(owner):\(Int64(slot.timeIntervalSince1970.rounded(.down)))"
    }

    /// The jobs for the slots due at the cursor, and where to resume; a schedule seen for the first time starts
    /// from now.
    func plan(_ cursor: ScheduleCursor, maxAttempts: Int) -> SchedulePlan {
        let summary = ScheduleSummary(
            jobName: jobName, timing: schedule.description, perInstallation: perInstallation, jitter: jitter)
        guard let lastSlot = cursor.lastSlot else {
            return SchedulePlan(
                jobs: [], resumeAfter: cursor.now, nextSlot: schedule.slot(after: cursor.now), summary: summary)
        }
        let due = schedule.dueSlots(after: lastSlot, now: cursor.now, grace: grace, accuracy: accuracy, limit: 100)
        let owners: [Tenant?] = perInstallation ? cursor.tenants : [nil]
        let jobs = due.slots.flatMap { slot in
            owners.map { tenant in
                NewJob(
                    name: jobName, tenant: tenant, parameters: parameters, priority: priority, maxAttempts: maxAttempts,
                    runAt: slot.addingTimeInterval(
                        JobSchedule.jitter(for: tenant, schedule: name, within: jitter).timeInterval),
                    slotKey: Self.slotKey(name, tenant, slot))
            }
        }
        return SchedulePlan(
            jobs: jobs, resumeAfter: due.resumeAfter, nextSlot: schedule.slot(after: due.resumeAfter), summary: summary)
    }
}
