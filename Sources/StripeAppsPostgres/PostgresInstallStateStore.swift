public import Foundation
import PostgresNIO
public import StripeApps

/// Install-link states in the `install_states` table, stored as hashes only.
public struct PostgresInstallStateStore: InstallStateStore {
    let database: PostgresDatabase

    public func save(_ state: InstallState) async throws {
        try await database.execute(
            """
            INSERT INTO install_states (state_hash, app_value, mode, created_at, expires_at)
            VALUES (\(state.stateHash), \(state.appValue), \(state.mode?.description),
                \(state.createdAt.timeIntervalSince1970), \(state.expiresAt.timeIntervalSince1970))
            """)
    }

    public func consume(hash: String, now: Date) async throws -> InstallState? {
        let seconds = now.timeIntervalSince1970
        // One statement deletes and returns the row (at most one caller gets it), and drops expired states.
        let rows = try await database.rows(
            """
            WITH consumed AS (
                DELETE FROM install_states WHERE state_hash = \(hash)
                RETURNING app_value, mode, created_at, expires_at
            ), expired AS (
                DELETE FROM install_states WHERE expires_at <= \(seconds) AND state_hash <> \(hash)
            )
            SELECT app_value, mode, created_at, expires_at FROM consumed
            """,
            as: (String?, String?, Double, Double).self)
        guard let row = rows.first, row.3 > seconds else { return nil }
        return InstallState(
            stateHash: hash,
            appValue: row.0,
            mode: row.1.flatMap(Tenant.Mode.init),
            createdAt: Date(unixSeconds: row.2),
            expiresAt: Date(unixSeconds: row.3)
        )
    }

    public func deleteExpired(now: Date) async throws -> Int {
        try await database.rows(
            "DELETE FROM install_states WHERE expires_at <= \(now.timeIntervalSince1970) RETURNING state_hash",
            as: String.self
        ).count
    }
}
