import Foundation
import GRDB
package import StripeApps

extension SQLiteStorage {
    /// Reads every row of every table in one read transaction, so the copy is a consistent snapshot.
    package func exportRows() async throws -> StorageRows {
        try await database.read { db in
            var rows = StorageRows()
            rows.metadata = try Row.fetchAll(db, sql: "SELECT key, value FROM app_metadata ORDER BY key").map {
                (key: $0["key"], value: $0["value"])
            }
            rows.installations = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(SQLiteInstallationStore.columns) FROM installations ORDER BY account_id, livemode
                    """
            ).map(SQLiteInstallationStore.installation)
            rows.settings = try Row.fetchAll(
                db, sql: "SELECT account_id, livemode, version, document, updated_at FROM settings"
            ).map { row in
                (
                    tenant: Self.tenant(row),
                    document: SettingsDocument(
                        version: row["version"], values: try SettingsDocument.values(fromJSON: row["document"]),
                        updatedAt: Date(unixSeconds: row["updated_at"]))
                )
            }
            rows.installStates = try Row.fetchAll(
                db,
                sql: """
                    SELECT state_hash, kind, app_value, mode, account_id, livemode, user_id, created_at, expires_at
                    FROM install_states
                    """
            ).map(SQLiteInstallStateStore.installState)
            rows.jobs = try Row.fetchAll(
                db, sql: "SELECT \(SQLiteJobQueue.columns) FROM jobs ORDER BY queued_at, id"
            ).map { (job: try SQLiteJobQueue.job($0), token: $0["lease_token"]) }
            rows.inbox = try Row.fetchAll(
                db, sql: "SELECT \(SQLiteEventInbox.columns) FROM inbox_events ORDER BY created, received_at, id"
            ).map { (event: try SQLiteEventInbox.event($0), token: $0["lease_token"]) }
            rows.audit = try Row.fetchAll(
                db, sql: "SELECT account_id, livemode, action, reason, created_at FROM audit_log ORDER BY id"
            ).map { row in
                AuditRecord(
                    tenant: Self.tenant(row), action: row["action"], reason: row["reason"],
                    date: Date(unixSeconds: row["created_at"]))
            }
            rows.credentials = try Row.fetchAll(
                db, sql: "SELECT account_id, livemode, name, sealed, version, updated_at FROM tenant_credentials"
            ).map { row in
                StoredCredential(
                    tenant: Self.tenant(row), name: row["name"], sealed: [UInt8](row["sealed"] as Data),
                    version: row["version"], updatedAt: Date(unixSeconds: row["updated_at"]))
            }
            return rows
        }
    }

    private static func tenant(_ row: Row) -> Tenant {
        Tenant(accountID: row["account_id"], mode: (row["livemode"] as Bool) ? .live : .test)
    }
}
