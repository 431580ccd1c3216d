#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Where each schedule is in its slots, kept in the database so that every instance, and every restart, agrees.
///
/// An instance ``advance(schedule:now:withInstallations:plan:)``s a schedule in one transaction: it reads the last
/// slot handled (locking the row, so instances take turns; one that finds it locked skips this round), lets
/// `plan` decide the slots now due and the jobs to push for them, pushes those jobs, each at most once per slot
/// key whatever else races, and records where to resume. No leader, no timer held only in memory: the row and the
/// jobs' unique slot keys are what make each (schedule, tenant, slot) run once.
public protocol ScheduleStore: Sendable {
    /// Advances one schedule; returns what `plan` decided and how many of its jobs were new, or `nil` when another
    /// instance is advancing the same schedule right now.
    ///
    /// - Parameters:
    ///   - now: This instance's clock; PostgreSQL, shared by instances, uses its own clock instead.
    ///   - withInstallations: Whether `plan` needs the active installations (a per-installation schedule); blocked
    ///     tenants (``TenantBlock``) are left out, so their slots push no job while the block lasts.
    func advance(
        schedule name: String,
        now: Date,
        withInstallations: Bool,
        plan: @Sendable (ScheduleCursor) -> SchedulePlan
    ) async throws -> (plan: SchedulePlan, pushed: Int)?
    /// Every schedule an instance has advanced, by name, as its last advance described it.
    func schedules() async throws -> [ScheduleRecord]
    /// The job of each tenant's newest slot of one schedule (one job for a global schedule) still in the queue.
    func latestRuns(of schedule: String) async throws -> [JobRecord]
}

/// What a plan is decided from: the schedule's last slot, the time, and the active installations.
public struct ScheduleCursor: Sendable {
    /// The last slot handled, or `nil` for a schedule seen for the first time (it starts from now: no backfill).
    public let lastSlot: Date?
    /// The time, from the database's clock where instances share one.
    public let now: Date
    /// The tenants whose installation is active and not blocked, when asked for.
    public let tenants: [Tenant]

    /// Creates a cursor.
    public init(lastSlot: Date?, now: Date, tenants: [Tenant]) {
        self.lastSlot = lastSlot
        self.now = now
        self.tenants = tenants
    }
}

/// What to push for the slots now due, and where the schedule resumes.
public struct SchedulePlan: Sendable {
    /// The jobs, each with its slot key.
    public let jobs: [NewJob]
    /// The slot to record as handled.
    public let resumeAfter: Date
    /// The schedule's next slot after `resumeAfter`, for listings; `nil` when it never fires again.
    public let nextSlot: Date?
    /// What the schedule is, for listings; `nil` leaves the stored description as it is.
    public let summary: ScheduleSummary?

    /// Creates a plan.
    public init(jobs: [NewJob], resumeAfter: Date, nextSlot: Date? = nil, summary: ScheduleSummary? = nil) {
        self.jobs = jobs
        self.resumeAfter = resumeAfter
        self.nextSlot = nextSlot
        self.summary = summary
    }
}

/// What a schedule is, as `jobs list` shows it: stored by every advance, so tools without the app's code can
/// list what the running instances schedule.
public struct ScheduleSummary: Sendable, Hashable {
    /// The job type each slot pushes.
    public let jobName: String
    /// When it fires: `30 2 * * * (Europe/Berlin)`, `every 3600 s`.
    public let timing: String
    /// Whether each active installation gets its own run of each slot.
    public let perInstallation: Bool
    /// The window each tenant's stable delay is taken from (see ``JobSchedule/jitter(for:schedule:within:)``).
    public let jitter: Duration

    /// Creates a summary.
    public init(jobName: String, timing: String, perInstallation: Bool, jitter: Duration) {
        self.jobName = jobName
        self.timing = timing
        self.perInstallation = perInstallation
        self.jitter = jitter
    }
}

/// A schedule as stored: its description and where it is in its slots.
public struct ScheduleRecord: Sendable, Hashable {
    /// The schedule's name.
    public let name: String
    /// What it is, once an instance that knows it has advanced it.
    public let summary: ScheduleSummary?
    /// Where its slots are handled through.
    public let handledThrough: Date?
    /// Its next slot, as of its last advance.
    public let nextSlot: Date?
    /// When it was last advanced.
    public let updatedAt: Date

    /// Creates a record.
    public init(name: String, summary: ScheduleSummary?, handledThrough: Date?, nextSlot: Date?, updatedAt: Date) {
        self.name = name
        self.summary = summary
        self.handledThrough = handledThrough
        self.nextSlot = nextSlot
        self.updatedAt = updatedAt
    }

    /// When `tenant`'s run of the next slot starts: the slot plus the tenant's stable jitter.
    public func nextRun(for tenant: Tenant?) -> Date? {
        guard let nextSlot else { return nil }
        let jitter = summary.map { JobSchedule.jitter(for: tenant, schedule: name, within: $0.jitter) } ?? .zero
        return nextSlot.addingTimeInterval(jitter.timeInterval)
    }

    /// The prefix of the slot keys of this schedule's jobs (`name:`); schedule names contain no colon.
    public var slotKeyPrefix: String { name + ":" }
}
