#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Counts over the inbox and the job queue, for metrics and the admin page's overview.
///
/// Both reads are bounded by the indexes each backend already keeps for claiming; callers read them on a timer
/// (metrics) or per page view, never per request.
public protocol StorageStatistics: Sendable {
    /// How many inbox events are in each status, and when the oldest pending one arrived.
    func inboxCounts() async throws -> InboxCounts
    /// How many jobs are in each status, and when the oldest waiting one was due.
    func jobCounts() async throws -> JobCounts
}

/// How many inbox events are in each status; see ``StorageStatistics/inboxCounts()``.
public struct InboxCounts: Sendable, Hashable {
    /// The number of events per status; every status of ``InboxEvent/Status/all`` is present (zero when none).
    public var byStatus: [InboxEvent.Status: Int]
    /// When the oldest event waiting for its first run (`pending`) was received; `nil` when none waits.
    public var oldestPendingReceivedAt: Date?

    /// Creates counts; statuses missing from `byStatus` count zero.
    public init(byStatus: [InboxEvent.Status: Int], oldestPendingReceivedAt: Date?) {
        self.byStatus = Dictionary(uniqueKeysWithValues: InboxEvent.Status.all.map { ($0, byStatus[$0] ?? 0) })
        self.oldestPendingReceivedAt = oldestPendingReceivedAt
    }

    /// The number of events in `status`.
    public subscript(status: InboxEvent.Status) -> Int { byStatus[status] ?? 0 }
}

/// How many jobs are in each status; see ``StorageStatistics/jobCounts()``.
public struct JobCounts: Sendable, Hashable {
    /// The number of jobs per status; every status of ``JobRecord/Status/all`` is present (zero when none).
    public var byStatus: [JobRecord.Status: Int]
    /// The earliest `runAt` of the jobs waiting to run (`pending`, or `failed` and waiting for a retry); `nil`
    /// when none waits. When it is in the past, the queue is that far behind.
    public var oldestWaitingRunAt: Date?

    /// Creates counts; statuses missing from `byStatus` count zero.
    public init(byStatus: [JobRecord.Status: Int], oldestWaitingRunAt: Date?) {
        self.byStatus = Dictionary(uniqueKeysWithValues: JobRecord.Status.all.map { ($0, byStatus[$0] ?? 0) })
        self.oldestWaitingRunAt = oldestWaitingRunAt
    }

    /// The number of jobs in `status`.
    public subscript(status: JobRecord.Status) -> Int { byStatus[status] ?? 0 }
}
