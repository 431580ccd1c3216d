import GRDB
public import StripeApps

/// Backend-wide values in the `app_metadata` table.
public struct SQLiteMetadataStore: MetadataStore {
    let database: SQLiteDatabase

    public func value(forKey key: String, insertingIfMissing value: String) async throws -> String {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO app_metadata (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                arguments: [key, value]
            )
            return try String.fetchOne(db, sql: "SELECT value FROM app_metadata WHERE key = ?", arguments: [key])
                ?? value
        }
    }

    public func value(forKey key: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM app_metadata WHERE key = ?", arguments: [key])
        }
    }
}
