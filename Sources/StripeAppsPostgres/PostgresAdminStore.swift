import Foundation
import Logging
import PostgresNIO
public import StripeApps

/// The admin pages' listings, replays and discards over `inbox_events`, `installations` and `audit_log`.
///
/// Listings walk `inbox_events_listing` (arrival, id) or, with a status, `inbox_events_status_listing`, from the
/// position of the page before, and stop at the limit. Every filter is a bound parameter; PostgreSQL plans each
/// statement with its values (unnamed statements), so a filter left out costs nothing. A replay or a discard
/// locks its row, changes it and appends the audit record in one transaction; a bulk replay is one statement.
public struct PostgresAdminStore: AdminStore {
    let database: PostgresDatabase

    public func events(matching filter: InboxFilter, after position: String?, limit: Int) async throws
        -> [InboxEvent]
    {
        var start: (receivedAt: Double, id: String)?
        if let position {
            guard
                let receivedAt = try await database.rows(
                    "SELECT received_at FROM inbox_events WHERE id = \(position)", as: Double.self
                ).first
            else { return [] }
            start = (receivedAt, position)
        }
        var statement = Statement()
        let conditions = statement.conditions(filter, replayableOnly: false)
        var page = ""
        if let start {
            page = " AND (received_at, id) < (\(statement.bind(start.receivedAt)), \(statement.bind(start.id)))"
        }
        statement.sql = """
            SELECT \(PostgresEventInbox.columns) FROM inbox_events WHERE \(conditions)\(page)
            ORDER BY received_at DESC, id DESC LIMIT \(statement.bind(max(0, limit)))
            """
        let rows = try await database.rows(statement.query, as: PostgresEventInbox.Row.self)
        return try rows.map { try PostgresEventInbox.event($0).event }
    }

    public func event(id: String) async throws -> InboxEvent? {
        try await database.rows(
            "SELECT \(unescaped: PostgresEventInbox.columns) FROM inbox_events WHERE id = \(id)",
            as: PostgresEventInbox.Row.self
        ).first.map { try PostgresEventInbox.event($0).event }
    }

    public func replay(id: String, by action: AdminAction) async throws -> InboxEvent? {
        let logger = database.logger
        return try await database.transaction { connection in
            guard let event = try await Self.locked(id, connection, logger) else { return nil }
            guard event.isReplayable else { return event }
            // The token moves on, so a worker still running the event can no longer record anything for it.
            try await connection.query(
                """
                UPDATE inbox_events SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_owner = NULL,
                    lease_expires_at = NULL, lease_token = lease_token + 1
                WHERE id = \(id)
                """, logger: logger)
            try await Self.audit(action.auditRecord("replayed", of: event), connection, logger)
            return try await Self.locked(id, connection, logger)
        }
    }

    public func replayAll(matching filter: InboxFilter, limit: Int, by action: AdminAction) async throws -> Int {
        let limit = max(0, min(limit, InboxFilter.maximumBulkReplay))
        var statement = Statement()
        let conditions = statement.conditions(filter, replayableOnly: true)
        // The audit reason is AdminAction.auditRecord's, `<id> <type> by <actor>`, built in SQL for each row.
        statement.sql = """
            WITH chosen AS MATERIALIZED (
                SELECT id FROM inbox_events WHERE \(conditions)
                ORDER BY received_at DESC, id DESC LIMIT \(statement.bind(limit))
                FOR NO KEY UPDATE SKIP LOCKED
            ),
            replayed AS (
                UPDATE inbox_events AS e SET status = 'pending', attempts = 0, next_attempt_at = NULL,
                    lease_owner = NULL, lease_expires_at = NULL, lease_token = e.lease_token + 1
                FROM chosen WHERE e.id = chosen.id
                RETURNING e.id, e.type, e.account_id, e.livemode
            ),
            audited AS (
                INSERT INTO audit_log (account_id, livemode, action, reason, created_at)
                SELECT account_id, livemode, 'admin_replayed', id || ' ' || type || ' by ' || \(statement.bind(action.actor))::text,
                    \(statement.bind(action.date.timeIntervalSince1970))
                FROM replayed WHERE account_id IS NOT NULL
                ON CONFLICT DO NOTHING
            )
            SELECT count(*) FROM replayed
            """
        let rows = try await database.rows(statement.query, as: Int.self)
        return rows.first ?? 0
    }

    public func discard(id: String, by action: AdminAction) async throws -> InboxEvent? {
        let logger = database.logger
        return try await database.transaction { connection in
            guard let event = try await Self.locked(id, connection, logger) else { return nil }
            guard event.isDiscardable else { return event }
            try await connection.query(
                """
                UPDATE inbox_events SET status = 'dead', payload = '', last_error = \(action.discardNote),
                    next_attempt_at = NULL, lease_owner = NULL, lease_expires_at = NULL,
                    lease_token = lease_token + 1
                WHERE id = \(id)
                """, logger: logger)
            try await Self.audit(action.auditRecord("discarded", of: event), connection, logger)
            return try await Self.locked(id, connection, logger)
        }
    }

    public func installations(matching filter: InstallationFilter, after position: Tenant?, limit: Int) async throws
        -> [Installation]
    {
        try await database.rows(
            """
            SELECT \(unescaped: PostgresInstallationStore.columns)
            FROM installations
            WHERE (\(filter.accountContains)::text IS NULL OR strpos(account_id, \(filter.accountContains)) > 0)
                AND (\(filter.mode?.isLive)::boolean IS NULL OR livemode = \(filter.mode?.isLive))
                AND (\(filter.status?.description)::text IS NULL OR status = \(filter.status?.description))
                AND (\(position?.accountID)::text IS NULL
                    OR (account_id, livemode) > (\(position?.accountID)::text, \(position?.mode.isLive)::boolean))
                AND (\(filter.isBlocked)::boolean IS NULL OR (blocked_at IS NOT NULL) = \(filter.isBlocked))
            ORDER BY account_id, livemode LIMIT \(max(0, limit))
            """,
            as: PostgresInstallationStore.Row.self
        ).map(PostgresInstallationStore.installation)
    }

    public func block(_ tenant: Tenant, reason: String?, by action: AdminAction) async throws -> Installation? {
        let reason = reason.map { String($0.prefix(TenantBlock.maximumReasonLength)) }
        let logger = database.logger
        return try await database.transaction { connection in
            // The row lock orders the block with installation changes, which lock the row too.
            guard let current = try await Self.installation(tenant, connection, logger) else { return nil }
            guard !current.isBlocked else { return current }
            try await connection.query(
                """
                UPDATE installations SET blocked_at = \(action.date.timeIntervalSince1970), blocked_by = \(action.actor),
                    block_reason = \(reason)
                WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)
                """, logger: logger)
            try await connection.query(PostgresJobQueue.cancelJobs(of: tenant, at: action.date), logger: logger)
            try await Self.audit(
                action.blockAuditRecord(of: tenant, isBlocking: true, reason: reason), connection, logger)
            return try await Self.installation(tenant, connection, logger)
        }
    }

    public func unblock(_ tenant: Tenant, by action: AdminAction) async throws -> Installation? {
        let logger = database.logger
        return try await database.transaction { connection in
            guard let current = try await Self.installation(tenant, connection, logger) else { return nil }
            guard current.isBlocked else { return current }
            try await connection.query(
                """
                UPDATE installations SET blocked_at = NULL, blocked_by = NULL, block_reason = NULL
                WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)
                """, logger: logger)
            try await Self.audit(
                action.blockAuditRecord(of: tenant, isBlocking: false, reason: nil), connection, logger)
            return try await Self.installation(tenant, connection, logger)
        }
    }

    /// The installation record of `tenant`, its row locked for the transaction.
    private static func installation(_ tenant: Tenant, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> Installation?
    {
        try await connection.rows(
            """
            SELECT \(unescaped: PostgresInstallationStore.columns) FROM installations
            WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive) FOR UPDATE
            """,
            as: PostgresInstallationStore.Row.self, logger: logger
        ).first.map(PostgresInstallationStore.installation)
    }

    public func installationCounts() async throws -> [InstallationCount] {
        try await database.rows(
            "SELECT livemode, status, count(*) FROM installations GROUP BY livemode, status",
            as: (Bool, String, Int).self
        ).map { live, name, count in
            guard let status = Installation.Status(name) else { throw StoreError.corruptRow("installations") }
            return InstallationCount(mode: live ? .live : .test, status: status, count: count)
        }
    }

    /// The event, its row locked for the transaction.
    private static func locked(_ id: String, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> InboxEvent?
    {
        try await connection.rows(
            "SELECT \(unescaped: PostgresEventInbox.columns) FROM inbox_events WHERE id = \(id) FOR UPDATE",
            as: PostgresEventInbox.Row.self, logger: logger
        ).first.map { try PostgresEventInbox.event($0).event }
    }

    private static func audit(_ record: AuditRecord?, _ connection: PostgresConnection, _ logger: Logger)
        async throws
    {
        guard let record else { return }
        try await connection.query(
            """
            INSERT INTO audit_log (account_id, livemode, action, reason, created_at)
            VALUES (\(record.tenant.accountID), \(record.tenant.mode.isLive), \(record.action), \(record.reason),
                \(record.date.timeIntervalSince1970))
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }
}

/// A statement built in parts: SQL text with `$n` placeholders, and the values bound to them in order.
private struct Statement {
    var sql = ""
    var binds = PostgresBindings()

    /// Binds `value` (`NULL` when `nil`) and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// The conditions of `filter` over `inbox_events`; with `replayableOnly`, also: a payload, and not running.
    mutating func conditions(_ filter: InboxFilter, replayableOnly: Bool) -> String {
        var conditions = ["TRUE"]
        if let status = filter.status { conditions.append("status = \(bind(status.description))") }
        if let type = filter.type { conditions.append("type = \(bind(type))") }
        if let accountID = filter.accountID { conditions.append("account_id = \(bind(accountID))") }
        if let mode = filter.mode { conditions.append("livemode = \(bind(mode.isLive))") }
        if replayableOnly { conditions.append("payload <> '' AND status <> 'running'") }
        return conditions.joined(separator: " AND ")
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}
