import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension InMemoryStorage: StorageStatistics {
    /// The storage itself: it counts under its one lock.
    public var statistics: InMemoryStorage { self }

    public func inboxCounts() async throws -> InboxCounts {
        state.withLock { state in
            var counts: [InboxEvent.Status: Int] = [:]
            var oldest: Date?
            for event in state.inbox.values {
                counts[event.status, default: 0] += 1
                if event.status == .pending, oldest.map({ event.receivedAt < $0 }) ?? true { oldest = event.receivedAt }
            }
            return InboxCounts(byStatus: counts, oldestPendingReceivedAt: oldest)
        }
    }

    public func jobCounts() async throws -> JobCounts {
        state.withLock { state in
            var counts: [JobRecord.Status: Int] = [:]
            var oldest: Date?
            for job in state.jobs.values {
                counts[job.status, default: 0] += 1
                if job.status == .pending || job.status == .failed, oldest.map({ job.runAt < $0 }) ?? true {
                    oldest = job.runAt
                }
            }
            return JobCounts(byStatus: counts, oldestWaitingRunAt: oldest)
        }
    }
}
