import PostgresNIO
public import StripeApps

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Counts over `inbox_events` and `jobs`: the inbox's from its `(status, received_at)` index, the jobs' with
/// one pass over the table (pruned after `JOB_RETENTION_DAYS`), the oldest waiting job from `jobs_ready`.
public struct PostgresStatistics: StorageStatistics {
    let database: PostgresDatabase

    public func inboxCounts() async throws -> InboxCounts {
        let rows = try await database.rows(
            """
            SELECT status, count(*)::BIGINT, min(received_at) FILTER (WHERE status = 'pending')
            FROM inbox_events GROUP BY status
            """,
            as: (String, Int64, Double?).self)
        return InboxCounts(
            byStatus: Self.counts(rows.map { ($0.0, $0.1) }, InboxEvent.Status.init(name:)),
            oldestPendingReceivedAt: rows.lazy.compactMap(\.2).first.map { Date(timeIntervalSince1970: $0) })
    }

    public func jobCounts() async throws -> JobCounts {
        let rows = try await database.rows(
            """
            SELECT status, count(*)::BIGINT, min(run_at) FILTER (WHERE status IN ('pending', 'failed'))
            FROM jobs GROUP BY status
            """,
            as: (String, Int64, Double?).self)
        return JobCounts(
            byStatus: Self.counts(rows.map { ($0.0, $0.1) }, JobRecord.Status.init(name:)),
            oldestWaitingRunAt: rows.lazy.compactMap(\.2).min().map { Date(timeIntervalSince1970: $0) })
    }

    /// Counts by status; names of statuses this version does not know are left out.
    static func counts<Status: Hashable>(_ rows: [(String, Int64)], _ status: (String) -> Status?) -> [Status: Int] {
        var counts: [Status: Int] = [:]
        for (name, count) in rows {
            if let known = status(name) { counts[known] = Int(count) }
        }
        return counts
    }
}
