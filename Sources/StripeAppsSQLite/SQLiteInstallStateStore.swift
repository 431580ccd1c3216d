public import Foundation
import GRDB
public import StripeApps

/// The install flow's one-time values (states, tickets, link codes) in the `install_states` table, stored as
/// hashes only.
public struct SQLiteInstallStateStore: InstallStateStore {
    let database: SQLiteDatabase

    private static let columns =
        "state_hash, kind, app_value, mode, account_id, livemode, user_id, created_at, expires_at"

    public func save(_ state: InstallState) async throws {
        try await database.write { db in try Self.insert(state, in: db) }
    }

    public func consume(_ kind: InstallState.Kind, hash: String, now: Date) async throws -> InstallState? {
        try await database.write { db in try Self.consume(kind, hash: hash, now: now, in: db) }
    }

    public func state(hash: String, now: Date) async throws -> InstallState? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT \(Self.columns) FROM install_states WHERE state_hash = ? AND kind = 'state' AND expires_at > ?",
                arguments: [hash, now.timeIntervalSince1970]
            ).map(Self.installState)
        }
    }

    public func complete(hash: String, now: Date, _ followUp: @Sendable (InstallState) -> InstallFollowUp)
        async throws -> InstallState?
    {
        let consumed = try await database.write { db -> InstallState? in
            guard let consumed = try Self.consume(.state, hash: hash, now: now, in: db) else { return nil }
            let work = followUp(consumed)
            try SQLiteEventInbox.insert(work.event, in: db)
            if let linkCode = work.linkCode { try Self.insert(linkCode, in: db) }
            return consumed
        }
        return consumed
    }

    public func deleteExpired(now: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM install_states WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    static func insert(_ state: InstallState, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO install_states (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                state.stateHash, state.kind.description, state.appValue, state.mode?.description,
                state.tenant?.accountID, state.tenant?.mode.isLive, state.userID, state.createdAt.timeIntervalSince1970,
                state.expiresAt.timeIntervalSince1970,
            ]
        )
    }

    private static func consume(_ kind: InstallState.Kind, hash: String, now: Date, in db: Database) throws
        -> InstallState?
    {
        // One statement deletes and returns the row, so two callers with the same value cannot both get it.
        let row = try Row.fetchOne(
            db,
            sql: "DELETE FROM install_states WHERE state_hash = ? AND kind = ? RETURNING \(columns)",
            arguments: [hash, kind.description]
        )
        try db.execute(sql: "DELETE FROM install_states WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
        guard let row, (row["expires_at"] as Double) > now.timeIntervalSince1970 else { return nil }
        return try installState(row)
    }

    static func installState(_ row: Row) throws -> InstallState {
        guard let kind = InstallState.Kind(stored: row["kind"]) else { throw StoreError.corruptRow("install_states") }
        let accountID: String? = row["account_id"]
        let livemode: Bool? = row["livemode"]
        return InstallState(
            stateHash: row["state_hash"],
            kind: kind,
            appValue: row["app_value"],
            mode: (row["mode"] as String?).flatMap(Tenant.Mode.init),
            tenant: accountID.flatMap { account in livemode.map { Tenant(accountID: account, mode: $0 ? .live : .test) }
            },
            userID: row["user_id"],
            createdAt: Date(unixSeconds: row["created_at"]),
            expiresAt: Date(unixSeconds: row["expires_at"])
        )
    }
}
