import PostgresNIO
public import StripeApps

/// Backend-wide values in the `app_metadata` table; the first writer wins across instances.
public struct PostgresMetadataStore: MetadataStore {
    let database: PostgresDatabase

    public func value(forKey key: String, insertingIfMissing value: String) async throws -> String {
        // The insert waits for a concurrent one on the key, then the select sees the committed winner.
        try await database.execute(
            "INSERT INTO app_metadata (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO NOTHING")
        return try await database.rows("SELECT value FROM app_metadata WHERE key = \(key)", as: String.self).first
            ?? value
    }

    public func value(forKey key: String) async throws -> String? {
        try await database.rows("SELECT value FROM app_metadata WHERE key = \(key)", as: String.self).first
    }
}
