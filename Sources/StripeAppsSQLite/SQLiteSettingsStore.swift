import Foundation
import GRDB
public import StripeApps

/// Settings documents in the `settings` table.
public struct SQLiteSettingsStore: SettingsStore {
    let database: SQLiteDatabase

    public func settings(for tenant: Tenant) async throws -> SettingsDocument {
        try database.pointRead { try Self.settings(in: $0, for: tenant) }
    }

    public func updateSettings(
        for tenant: Tenant,
        expectedVersion: Int,
        _ update: @Sendable (inout [String: PayloadValue]) throws -> Void
    ) async throws -> SettingsDocument {
        let now = Date()
        return try await database.write { db in
            let updated = try Self.settings(in: db, for: tenant).updated(
                expectedVersion: expectedVersion, at: now, by: update)
            try db.execute(
                sql: """
                    INSERT INTO settings (account_id, livemode, version, document, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, livemode) DO UPDATE SET
                        version = excluded.version, document = excluded.document, updated_at = excluded.updated_at
                    """,
                arguments: [
                    tenant.accountID, tenant.mode.isLive, updated.version, updated.valuesJSON,
                    now.timeIntervalSince1970,
                ]
            )
            return updated
        }
    }

    private static func settings(in db: Database, for tenant: Tenant) throws -> SettingsDocument {
        let statement = try db.cachedStatement(
            sql: "SELECT version, document, updated_at FROM settings WHERE account_id = ? AND livemode = ?"
        )
        guard let row = try Row.fetchOne(statement, arguments: [tenant.accountID, tenant.mode.isLive]) else {
            return .empty
        }
        return SettingsDocument(
            version: row["version"],
            values: try SettingsDocument.values(fromJSON: row["document"]),
            updatedAt: Date(unixSeconds: row["updated_at"])
        )
    }
}
