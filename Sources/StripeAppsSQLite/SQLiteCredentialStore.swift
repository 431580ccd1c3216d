public import Foundation
import GRDB
public import StripeApps

/// Sealed tenant credentials in `tenant_credentials`, and the `audit_log`.
public struct SQLiteCredentialStore: CredentialStore {
    let database: SQLiteDatabase

    public func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT sealed, version, updated_at FROM tenant_credentials "
                    + "WHERE account_id = ? AND livemode = ? AND name = ?",
                arguments: [tenant.accountID, tenant.mode.isLive, name]
            ).map { row in
                StoredCredential(
                    tenant: tenant,
                    name: name,
                    sealed: [UInt8](row["sealed"] as Data),
                    version: row["version"],
                    updatedAt: Date(unixSeconds: row["updated_at"])
                )
            }
        }
    }

    public func saveCredential(
        _ sealed: [UInt8],
        named name: String,
        for tenant: Tenant,
        expectedVersion: Int?,
        at date: Date
    ) async throws -> StoredCredential {
        let version: Int = try await database.write { db in
            let current =
                try Int.fetchOne(
                    db,
                    sql: "SELECT version FROM tenant_credentials WHERE account_id = ? AND livemode = ? AND name = ?",
                    arguments: [tenant.accountID, tenant.mode.isLive, name]
                ) ?? 0
            let next = try StoredCredential.nextVersion(current: current, expected: expectedVersion)
            try db.execute(
                sql:
                    "INSERT INTO tenant_credentials (account_id, livemode, name, sealed, version, updated_at) "
                    + "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, livemode, name) DO UPDATE SET "
                    + "sealed = excluded.sealed, version = excluded.version, updated_at = excluded.updated_at",
                arguments: [
                    tenant.accountID, tenant.mode.isLive, name, Data(sealed), next, date.timeIntervalSince1970,
                ]
            )
            return next
        }
        return StoredCredential(tenant: tenant, name: name, sealed: sealed, version: version, updatedAt: date)
    }

    public func credentials(after position: StoredCredential.ID?, limit: Int) async throws -> [StoredCredential] {
        try await database.read { db in
            let columns = "SELECT account_id, livemode, name, sealed, version, updated_at FROM tenant_credentials "
            let order = "ORDER BY account_id, livemode, name LIMIT ?"
            let rows: [Row]
            if let position {
                rows = try Row.fetchAll(
                    db,
                    sql: columns + "WHERE (account_id, livemode, name) > (?, ?, ?) " + order,
                    arguments: [position.tenant.accountID, position.tenant.mode.isLive, position.name, max(0, limit)]
                )
            } else {
                rows = try Row.fetchAll(db, sql: columns + order, arguments: [max(0, limit)])
            }
            return rows.map { row in
                let isLive: Bool = row["livemode"]
                return StoredCredential(
                    tenant: Tenant(accountID: row["account_id"], mode: isLive ? .live : .test),
                    name: row["name"],
                    sealed: [UInt8](row["sealed"] as Data),
                    version: row["version"],
                    updatedAt: Date(unixSeconds: row["updated_at"])
                )
            }
        }
    }

    public func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM tenant_credentials WHERE account_id = ? AND livemode = ? AND name = ?",
                arguments: [tenant.accountID, tenant.mode.isLive, name]
            )
            return db.changesCount > 0
        }
    }

    public func auditRecords(for tenant: Tenant) async throws -> [AuditRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT action, reason, created_at FROM audit_log WHERE account_id = ? AND livemode = ? ORDER BY id",
                arguments: [tenant.accountID, tenant.mode.isLive]
            ).map { row in
                AuditRecord(
                    tenant: tenant,
                    action: row["action"],
                    reason: row["reason"],
                    date: Date(unixSeconds: row["created_at"])
                )
            }
        }
    }
}
