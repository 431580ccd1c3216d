import GRDB
public import StripeApps

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Counts over `inbox_events` and `jobs`, read from a snapshot: the inbox's from its `(status, received_at)`
/// index, the jobs' with one pass over the table (pruned after `JOB_RETENTION_DAYS`).
public struct SQLiteStatistics: StorageStatistics {
    let database: SQLiteDatabase

    public func inboxCounts() async throws -> InboxCounts {
        try await database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT status, count(*) AS n,
                        CASE WHEN status = 'pending' THEN min(received_at) END AS oldest
                    FROM inbox_events GROUP BY status
                    """)
            return InboxCounts(
                byStatus: Self.counts(rows, InboxEvent.Status.init(name:)),
                oldestPendingReceivedAt: rows.lazy.compactMap { ($0["oldest"] as Double?) }.first
                    .map { Date(timeIntervalSince1970: $0) })
        }
    }

    public func jobCounts() async throws -> JobCounts {
        try await database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM jobs GROUP BY status")
            let oldest = try Double.fetchOne(
                db, sql: "SELECT min(run_at) FROM jobs WHERE status IN ('pending', 'failed')")
            return JobCounts(
                byStatus: Self.counts(rows, JobRecord.Status.init(name:)),
                oldestWaitingRunAt: oldest.map { Date(timeIntervalSince1970: $0) })
        }
    }

    /// Counts by status from `(status, n)` rows; names of statuses this version does not know are left out.
    static func counts<Status: Hashable>(_ rows: [Row], _ status: (String) -> Status?) -> [Status: Int] {
        var counts: [Status: Int] = [:]
        for row in rows {
            if let known = status(row["status"]) { counts[known] = row["n"] }
        }
        return counts
    }
}
