public import Foundation
import PostgresNIO
public import StripeApps

/// The install flow's one-time values (states, tickets, link codes) in the `install_states` table, stored as
/// hashes only.
public struct PostgresInstallStateStore: InstallStateStore {
    let database: PostgresDatabase

    /// The columns every read returns, in the order ``installState(_:)`` decodes.
    private typealias Columns = (String, String, String?, String?, String?, Bool?, String?, Double, Double)

    public func save(_ state: InstallState) async throws {
        try await database.execute(Self.insertQuery(state))
    }

    public func consume(_ kind: InstallState.Kind, hash: String, now: Date) async throws -> InstallState? {
        try await database.rows(Self.consumeQuery(kind, hash: hash, now: now), as: Columns.self).first
            .flatMap { Self.installState($0, now: now) }
    }

    public func state(hash: String, now: Date) async throws -> InstallState? {
        try await database.rows(
            """
            SELECT state_hash, kind, app_value, mode, account_id, livemode, user_id, created_at, expires_at
            FROM install_states WHERE state_hash = \(hash) AND kind = 'state' AND expires_at > \(now.timeIntervalSince1970)
            """,
            as: Columns.self
        ).first.flatMap { Self.installState($0, now: now) }
    }

    public func complete(hash: String, now: Date, _ followUp: @Sendable (InstallState) -> InstallFollowUp)
        async throws -> InstallState?
    {
        let logger = database.logger
        return try await database.transaction { connection in
            guard
                let consumed = try await connection.rows(
                    Self.consumeQuery(.state, hash: hash, now: now), as: Columns.self, logger: logger
                ).first.flatMap({ Self.installState($0, now: now) })
            else { return nil }
            let work = followUp(consumed)
            // The inbox's own insert, in this transaction: held (stored blocked) when the tenant is blocked.
            let stored = try await connection.query(
                PostgresEventInbox.insertQuery([PostgresEventInbox.Delivery(event: work.event, claim: nil)]),
                logger: logger)
            for try await _ in stored {}
            // Other instances' workers hear of it at once (delivered at commit), as of a webhook's event.
            try await connection.query("SELECT pg_notify(\(PostgresDatabase.inboxChannel), '')", logger: logger)
            if let linkCode = work.linkCode { try await connection.query(Self.insertQuery(linkCode), logger: logger) }
            return consumed
        }
    }

    public func deleteExpired(now: Date) async throws -> Int {
        try await database.rows(
            "DELETE FROM install_states WHERE expires_at <= \(now.timeIntervalSince1970) RETURNING state_hash",
            as: String.self
        ).count
    }

    /// The insert of a new value (the SQLite copy uses it too).
    static func insertQuery(_ state: InstallState) -> PostgresQuery {
        """
        INSERT INTO install_states (state_hash, kind, app_value, mode, account_id, livemode, user_id, created_at,
            expires_at)
        VALUES (\(state.stateHash), \(state.kind.description), \(state.appValue), \(state.mode?.description),
            \(state.tenant?.accountID), \(state.tenant.map { $0.mode.isLive }), \(state.userID),
            \(state.createdAt.timeIntervalSince1970), \(state.expiresAt.timeIntervalSince1970))
        """
    }

    /// One statement deletes and returns the row (at most one caller gets it), and drops expired values.
    private static func consumeQuery(_ kind: InstallState.Kind, hash: String, now: Date) -> PostgresQuery {
        """
        WITH consumed AS (
            DELETE FROM install_states WHERE state_hash = \(hash) AND kind = \(kind.description)
            RETURNING state_hash, kind, app_value, mode, account_id, livemode, user_id, created_at, expires_at
        ), expired AS (
            DELETE FROM install_states WHERE expires_at <= \(now.timeIntervalSince1970) AND state_hash <> \(hash)
        )
        SELECT state_hash, kind, app_value, mode, account_id, livemode, user_id, created_at, expires_at FROM consumed
        """
    }

    /// The value a row holds, or `nil` when it expired at `now` (or its kind is unknown).
    private static func installState(_ row: Columns, now: Date) -> InstallState? {
        guard row.8 > now.timeIntervalSince1970, let kind = InstallState.Kind(stored: row.1) else { return nil }
        return InstallState(
            stateHash: row.0,
            kind: kind,
            appValue: row.2,
            mode: row.3.flatMap(Tenant.Mode.init),
            tenant: row.4.flatMap { account in row.5.map { Tenant(accountID: account, mode: $0 ? .live : .test) } },
            userID: row.6,
            createdAt: Date(unixSeconds: row.7),
            expiresAt: Date(unixSeconds: row.8)
        )
    }
}
