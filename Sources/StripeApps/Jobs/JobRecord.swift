#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A job as the queue keeps it.
public struct JobRecord: Sendable, Hashable {
    /// Where the job is in its life.
    public struct Status: Sendable, Hashable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// Waiting for its ``JobRecord/runAt``, then for a worker.
        public static let pending = Status("pending")
        /// Leased to a worker until ``JobRecord/leaseExpiresAt``; an expired lease returns it to the queue.
        public static let running = Status("running")
        /// Done.
        public static let succeeded = Status("succeeded")
        /// A run failed; it runs again at ``JobRecord/runAt``.
        public static let failed = Status("failed")
        /// Its attempts are used up; only a replay runs it again.
        public static let dead = Status("dead")
        /// Cancelled before it finished (or its tenant uninstalled the app); a replay runs it again.
        public static let cancelled = Status("cancelled")

        /// Every status.
        public static let all: [Status] = [.pending, .running, .succeeded, .failed, .dead, .cancelled]

        /// Reads a stored status name.
        public init?(name: String) {
            guard let found = Self.all.first(where: { $0.name == name }) else { return nil }
            self = found
        }

        public var description: String { name }

        /// Whether nothing runs the job again unless it is replayed.
        public var isFinished: Bool { self == .succeeded || self == .dead || self == .cancelled }
    }

    /// `job_` and 24 random hex digits.
    public let id: String
    /// The registered job's name (`JobParameters.jobName`).
    public let name: String
    /// The tenant the job works for; `nil` for a global job.
    public let tenant: Tenant?
    /// The job's parameters, as JSON.
    public let parameters: String
    /// Higher runs first among due jobs.
    public let priority: Int
    /// Where it is.
    public var status: Status
    /// How many runs started (a run cut short by a crash counts).
    public var attempts: Int
    /// The most runs before it is dead.
    public let maxAttempts: Int
    /// When it may start: its delay, or its next retry.
    public var runAt: Date
    /// When it was pushed.
    public let queuedAt: Date
    /// When it finished (succeeded, dead or cancelled).
    public var finishedAt: Date?
    /// The last run's error, at most ``InboxEvent/maximumErrorLength`` characters.
    public var lastError: String?
    /// The worker holding a running job's lease.
    public var leaseOwner: String?
    /// When a running job's lease ends unless its worker extends it.
    public var leaseExpiresAt: Date?
    /// Whether someone asked a running job to stop; its worker cancels the run at the next heartbeat.
    public var cancelRequested: Bool
    /// The last progress a running job reported, from 0 to 1.
    public var progress: Double?
    /// The message reported with it.
    public var progressMessage: String?
    /// A unique key, when the job is one schedule slot's run: a second push with the key stores nothing.
    public let slotKey: String?

    /// Creates a record.
    public init(
        id: String, name: String, tenant: Tenant?, parameters: String, priority: Int, status: Status,
        attempts: Int, maxAttempts: Int, runAt: Date, queuedAt: Date, finishedAt: Date? = nil,
        lastError: String? = nil, leaseOwner: String? = nil, leaseExpiresAt: Date? = nil,
        cancelRequested: Bool = false, progress: Double? = nil, progressMessage: String? = nil, slotKey: String? = nil
    ) {
        self.id = id
        self.name = name
        self.tenant = tenant
        self.parameters = parameters
        self.priority = priority
        self.status = status
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.queuedAt = queuedAt
        self.finishedAt = finishedAt
        self.lastError = lastError
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
        self.progress = progress
        self.progressMessage = progressMessage
        self.slotKey = slotKey
    }

    /// A new pending job.
    public init(_ job: NewJob, queuedAt: Date) {
        self.init(
            id: job.id, name: job.name, tenant: job.tenant, parameters: job.parameters, priority: job.priority,
            status: .pending, attempts: 0, maxAttempts: job.maxAttempts, runAt: job.runAt ?? queuedAt,
            queuedAt: queuedAt, slotKey: job.slotKey)
    }

    /// Whether a claim at `now` may take it: pending or failed and due, or running with its lease over (and not
    /// asked to stop).
    package func isClaimable(at now: Date) -> Bool {
        switch status {
        case .pending, .failed: runAt <= now
        case .running: !cancelRequested && (leaseExpiresAt.map { $0 <= now } ?? true)
        default: false
        }
    }
}

/// A job to push.
public struct NewJob: Sendable, Hashable {
    /// Its id: `job_` and 24 random hex digits, made here.
    public let id: String
    /// The registered job's name.
    public let name: String
    /// The tenant it works for, or `nil`.
    public let tenant: Tenant?
    /// Its parameters, as JSON.
    public let parameters: String
    /// Higher runs first.
    public let priority: Int
    /// The most runs.
    public let maxAttempts: Int
    /// When it may start; `nil`: at once.
    public let runAt: Date?
    /// A unique key (a schedule slot's run); `nil` for none.
    public let slotKey: String?

    /// Creates a job to push.
    public init(
        name: String, tenant: Tenant? = nil, parameters: String = "{}", priority: Int = 0, maxAttempts: Int = 25,
        runAt: Date? = nil, slotKey: String? = nil
    ) {
        var generator = SystemRandomNumberGenerator()
        self.id = "job_" + Hex.encode((0..<12).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        self.name = name
        self.tenant = tenant
        self.parameters = parameters
        self.priority = priority
        self.maxAttempts = max(1, maxAttempts)
        self.runAt = runAt
        self.slotKey = slotKey
    }
}

/// A job leased to one worker by ``JobQueue/claim(now:limit:lease:owner:)``.
public struct ClaimedJob: Sendable, Hashable {
    /// The job as claimed: running, with ``JobRecord/attempts`` counting this run.
    public let job: JobRecord
    /// The fencing token of this claim: only the newest claim of a job may settle or extend it.
    public let token: Int64
    /// The worker holding the lease.
    public let owner: String
    /// Whether the job's tenant was blocked (``TenantBlock``) when the claim was made, as read by the statement that
    /// made it, so that a worker starting the job soon after needs no read of its own; `nil` when the claim did not
    /// read it (the worker then reads the installation). `false` for a job with no tenant.
    public let tenantBlockedWhenClaimed: Bool?

    /// Creates a claim.
    public init(job: JobRecord, token: Int64, owner: String, tenantBlockedWhenClaimed: Bool? = nil) {
        self.job = job
        self.token = token
        self.owner = owner
        self.tenantBlockedWhenClaimed = tenantBlockedWhenClaimed
    }

    /// The job id.
    public var id: String { job.id }
}
