import Foundation
import GRDB
public import StripeApps

/// Installation records in the `installations` table, read through a short-lived cache.
public struct SQLiteInstallationStore: InstallationStore {
    let database: SQLiteDatabase

    static let columns =
        "account_id, livemode, status, created_at, updated_at, last_changed_at, last_changed_by, blocked_at, "
        + "blocked_by, block_reason"

    public func installation(for tenant: Tenant) async throws -> Installation? {
        let cache = database.installationCache
        if let cached = cache.cached(tenant) { return cached }
        let generation = cache.generation
        let installation = try database.pointRead { try Self.read(tenant, in: $0) }
        cache.fill(tenant, with: installation, generation: generation)
        return installation
    }

    public func installations() async throws -> [Installation] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM installations ORDER BY account_id, livemode")
                .map(Self.installation)
        }
    }

    public func apply(_ change: InstallationChange) async throws -> InstallationChange.Outcome {
        let (outcome, record) = try await database.write { db -> (InstallationChange.Outcome, Installation?) in
            let current = try Self.read(change.tenant, in: db)
            let outcome = change.outcome(against: current)
            guard outcome == .applied else { return (outcome, current) }
            let record = change.applied(to: current)
            try Self.write(record, in: db)
            if change.action == .deactivate { try Self.purge(change, in: db) }
            return (outcome, record)
        }
        if outcome == .applied, let record { database.installationCache.written(record) }
        return outcome
    }

    /// Cancels the tenant's jobs (running ones are asked to stop), deletes its settings, credentials and the
    /// payloads of its finished events, and appends the audit record, once per source.
    private static func purge(_ change: InstallationChange, in db: Database) throws {
        let tenant = change.tenant
        let arguments: StatementArguments = [tenant.accountID, tenant.mode.isLive]
        try SQLiteJobQueue.cancelJobs(of: tenant, at: change.recordedAt.timeIntervalSince1970, in: db)
        try db.execute(sql: "DELETE FROM settings WHERE account_id = ? AND livemode = ?", arguments: arguments)
        try db.execute(
            sql: "DELETE FROM tenant_credentials WHERE account_id = ? AND livemode = ?", arguments: arguments)
        try db.execute(
            sql: """
                UPDATE inbox_events SET payload = '', last_error = NULL
                WHERE account_id = ? AND livemode = ? AND status IN ('succeeded', 'dead', 'blocked') AND payload <> ''
                """,
            arguments: arguments)
        let audit = change.auditRecord
        try db.execute(
            sql: """
                INSERT INTO audit_log (account_id, livemode, action, reason, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """,
            arguments: [
                tenant.accountID, tenant.mode.isLive, audit.action, audit.reason, audit.date.timeIntervalSince1970,
            ]
        )
    }

    private static func write(_ record: Installation, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO installations (account_id, livemode, status, created_at, updated_at, last_changed_at,
                    last_changed_by)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (account_id, livemode) DO UPDATE SET
                    status = excluded.status, created_at = excluded.created_at, updated_at = excluded.updated_at,
                    last_changed_at = excluded.last_changed_at, last_changed_by = excluded.last_changed_by
                """,
            arguments: [
                record.tenant.accountID, record.tenant.mode.isLive, record.status.description,
                record.createdAt.timeIntervalSince1970, record.updatedAt.timeIntervalSince1970,
                record.lastChangedAt?.timeIntervalSince1970, record.lastChangedBy,
            ]
        )
    }

    static func read(_ tenant: Tenant, in db: Database) throws -> Installation? {
        let statement = try db.cachedStatement(
            sql: "SELECT \(columns) FROM installations WHERE account_id = ? AND livemode = ?")
        return try Row.fetchOne(statement, arguments: [tenant.accountID, tenant.mode.isLive]).map(installation)
    }

    static func installation(_ row: Row) throws -> Installation {
        guard let status = Installation.Status(row["status"] as String) else {
            throw StoreError.corruptRow("installations")
        }
        return Installation(
            tenant: Tenant(accountID: row["account_id"], mode: (row["livemode"] as Bool) ? .live : .test),
            status: status,
            createdAt: Date(unixSeconds: row["created_at"]),
            updatedAt: Date(unixSeconds: row["updated_at"]),
            lastChangedAt: (row["last_changed_at"] as Double?).map(Date.init(unixSeconds:)),
            lastChangedBy: row["last_changed_by"],
            block: (row["blocked_at"] as Double?).map { blockedAt in
                TenantBlock(
                    reason: row["block_reason"], blockedBy: row["blocked_by"] ?? "unknown",
                    blockedAt: Date(unixSeconds: blockedAt))
            }
        )
    }
}
