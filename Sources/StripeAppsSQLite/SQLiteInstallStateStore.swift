public import Foundation
import GRDB
public import StripeApps

/// Install-link states in the `install_states` table, stored as hashes only.
public struct SQLiteInstallStateStore: InstallStateStore {
    let database: SQLiteDatabase

    public func save(_ state: InstallState) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO install_states (state_hash, app_value, mode, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    state.stateHash, state.appValue, state.mode?.description, state.createdAt.timeIntervalSince1970,
                    state.expiresAt.timeIntervalSince1970,
                ]
            )
        }
    }

    public func consume(hash: String, now: Date) async throws -> InstallState? {
        try await database.writer.write { db in
            // One statement deletes and returns the row, so two callbacks with the same state cannot both get it.
            let row = try Row.fetchOne(
                db,
                sql:
                    "DELETE FROM install_states WHERE state_hash = ? RETURNING app_value, mode, created_at, expires_at",
                arguments: [hash]
            )
            try db.execute(
                sql: "DELETE FROM install_states WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
            guard let row, (row["expires_at"] as Double) > now.timeIntervalSince1970 else { return nil }
            return InstallState(
                stateHash: hash,
                appValue: row["app_value"],
                mode: (row["mode"] as String?).flatMap(Tenant.Mode.init),
                createdAt: Date(unixSeconds: row["created_at"]),
                expiresAt: Date(unixSeconds: row["expires_at"])
            )
        }
    }

    public func deleteExpired(now: Date) async throws -> Int {
        try await database.writer.write { db in
            try db.execute(
                sql: "DELETE FROM install_states WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
