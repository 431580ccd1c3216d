import Foundation
import Logging
import PostgresNIO
public import StripeApps

/// Installation records in the `installations` table; a change locks the row for its transaction.
public struct PostgresInstallationStore: InstallationStore {
    let database: PostgresDatabase

    typealias Row = (String, Bool, String, Double, Double, Double?, String?, Double?, String?, String?)

    /// The columns of ``Row``, in its order.
    static let columns =
        "account_id, livemode, status, created_at, updated_at, last_changed_at, last_changed_by, blocked_at, "
        + "blocked_by, block_reason"

    public func installation(for tenant: Tenant) async throws -> Installation? {
        try await database.rows(
            """
            SELECT \(unescaped: Self.columns)
            FROM installations WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)
            """,
            as: Row.self
        ).first.map(Self.installation)
    }

    public func installations() async throws -> [Installation] {
        try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM installations ORDER BY account_id, livemode
            """,
            as: Row.self
        ).map(Self.installation)
    }

    public func apply(_ change: InstallationChange) async throws -> InstallationChange.Outcome {
        let tenant = change.tenant
        let logger = database.logger
        return try await database.transaction { connection in
            // Serializes changes of one tenant, a first one included (the row may not exist yet).
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(\(tenant.accountID + "/" + tenant.mode.description), 0))",
                logger: logger)
            let current = try await connection.rows(
                """
                SELECT \(unescaped: Self.columns)
                FROM installations WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)
                FOR UPDATE
                """,
                as: Row.self, logger: logger
            ).first.map(Self.installation)
            let outcome = change.outcome(against: current)
            guard outcome == .applied else { return outcome }
            let record = change.applied(to: current)
            try await connection.query(
                """
                INSERT INTO installations (account_id, livemode, status, created_at, updated_at, last_changed_at,
                    last_changed_by)
                VALUES (\(tenant.accountID), \(tenant.mode.isLive), \(record.status.description),
                    \(record.createdAt.timeIntervalSince1970), \(record.updatedAt.timeIntervalSince1970),
                    \(record.lastChangedAt?.timeIntervalSince1970), \(record.lastChangedBy))
                ON CONFLICT (account_id, livemode) DO UPDATE SET
                    status = excluded.status, created_at = excluded.created_at, updated_at = excluded.updated_at,
                    last_changed_at = excluded.last_changed_at, last_changed_by = excluded.last_changed_by
                """,
                logger: logger)
            if change.action == .deactivate { try await Self.purge(change, connection, logger) }
            return outcome
        }
    }

    /// Cancels the tenant's jobs (running ones are asked to stop), deletes its settings, credentials and the
    /// payloads of its finished events, and appends the audit record, once per source.
    private static func purge(_ change: InstallationChange, _ connection: PostgresConnection, _ logger: Logger)
        async throws
    {
        let tenant = change.tenant
        try await connection.query(PostgresJobQueue.cancelJobs(of: tenant, at: change.recordedAt), logger: logger)
        try await connection.query(
            "DELETE FROM settings WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)",
            logger: logger)
        try await connection.query(
            "DELETE FROM tenant_credentials WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)",
            logger: logger)
        try await connection.query(
            """
            UPDATE inbox_events SET payload = '', last_error = NULL
            WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)
                AND status IN ('succeeded', 'dead', 'blocked') AND payload <> ''
            """,
            logger: logger)
        let audit = change.auditRecord
        try await connection.query(
            """
            INSERT INTO audit_log (account_id, livemode, action, reason, created_at)
            VALUES (\(tenant.accountID), \(tenant.mode.isLive), \(audit.action), \(audit.reason),
                \(audit.date.timeIntervalSince1970))
            ON CONFLICT DO NOTHING
            """,
            logger: logger)
    }

    static func installation(_ row: Row) throws -> Installation {
        guard let status = Installation.Status(row.2) else { throw StoreError.corruptRow("installations") }
        return Installation(
            tenant: Tenant(accountID: row.0, mode: row.1 ? .live : .test),
            status: status,
            createdAt: Date(unixSeconds: row.3),
            updatedAt: Date(unixSeconds: row.4),
            lastChangedAt: row.5.map(Date.init(unixSeconds:)),
            lastChangedBy: row.6,
            block: row.7.map {
                TenantBlock(reason: row.9, blockedBy: row.8 ?? "unknown", blockedAt: Date(unixSeconds: $0))
            }
        )
    }
}
