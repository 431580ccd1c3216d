import Foundation
import PostgresNIO
public import StripeApps

/// Settings documents in the `settings` table; a write locks the row (`FOR UPDATE`) for its transaction.
public struct PostgresSettingsStore: SettingsStore {
    let database: PostgresDatabase

    public func settings(for tenant: Tenant) async throws -> SettingsDocument {
        let rows = try await database.rows(
            """
            SELECT version, document, updated_at FROM settings
            WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)
            """,
            as: (Int, String, Double).self)
        return try rows.first.map(Self.document) ?? .empty
    }

    public func updateSettings(
        for tenant: Tenant,
        expectedVersion: Int,
        _ update: @Sendable (inout [String: PayloadValue]) throws -> Void
    ) async throws -> SettingsDocument {
        let now = Date()
        let logger = database.logger
        return try await database.transaction { connection in
            // A first write has no row to lock: the insert's primary key makes a concurrent first write conflict.
            let rows = try await connection.rows(
                """
                SELECT version, document, updated_at FROM settings
                WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive) FOR UPDATE
                """,
                as: (Int, String, Double).self, logger: logger)
            let current = try rows.first.map(Self.document) ?? .empty
            let updated = try current.updated(expectedVersion: expectedVersion, at: now, by: update)
            let written = try await connection.rows(
                """
                INSERT INTO settings (account_id, livemode, version, document, updated_at)
                VALUES (\(tenant.accountID), \(tenant.mode.isLive), \(updated.version), \(updated.valuesJSON),
                    \(now.timeIntervalSince1970))
                ON CONFLICT (account_id, livemode) DO UPDATE SET
                    version = excluded.version, document = excluded.document, updated_at = excluded.updated_at
                WHERE settings.version = \(current.version)
                RETURNING version
                """,
                as: Int.self, logger: logger)
            guard !written.isEmpty else { throw StoreError.versionConflict(current: current.version + 1) }
            return updated
        }
    }

    private static func document(_ row: (Int, String, Double)) throws -> SettingsDocument {
        SettingsDocument(
            version: row.0, values: try SettingsDocument.values(fromJSON: row.1), updatedAt: Date(unixSeconds: row.2))
    }
}
