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
    ///   - withInstallations: Whether `plan` needs the active installations (a per-installation schedule).
    func advance(
        schedule name: String,
        now: Date,
        withInstallations: Bool,
        plan: @Sendable (ScheduleCursor) -> SchedulePlan
    ) async throws -> (plan: SchedulePlan, pushed: Int)?
}

/// What a plan is decided from: the schedule's last slot, the time, and the active installations.
public struct ScheduleCursor: Sendable {
    /// The last slot handled, or `nil` for a schedule seen for the first time (it starts from now: no backfill).
    public let lastSlot: Date?
    /// The time, from the database's clock where instances share one.
    public let now: Date
    /// The tenants whose installation is active, when asked for.
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

    /// Creates a plan.
    public init(jobs: [NewJob], resumeAfter: Date) {
        self.jobs = jobs
        self.resumeAfter = resumeAfter
    }
}
