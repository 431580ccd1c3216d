import Foundation
import GRDB
public import StripeApps

/// The admin pages' listings, replays and discards over `inbox_events`, `installations` and `audit_log`.
///
/// Listings read each status through `inbox_events_status_received` (status, arrival) and merge the pages, so
/// the newest events of any filter come from index walks that stop at the limit, with no new index on the
/// table every delivery writes. Replays and discards are write transactions: the event and its audit record
/// change together.
public struct SQLiteAdminStore: AdminStore {
    let database: SQLiteDatabase

    public func events(matching filter: InboxFilter, after position: String?, limit: Int) async throws
        -> [InboxEvent]
    {
        try await database.read { db in try Self.listing(filter, after: position, limit: limit, in: db) }
    }

    public func event(id: String) async throws -> InboxEvent? {
        try await database.read { db in try Self.read(id, in: db) }
    }

    public func replay(id: String, by action: AdminAction) async throws -> InboxEvent? {
        try await database.write { db in
            guard let event = try Self.read(id, in: db) else { return nil }
            guard event.isReplayable else { return event }
            return try Self.replay(event, by: action, in: db)
        }
    }

    public func replayAll(matching filter: InboxFilter, limit: Int, by action: AdminAction) async throws -> Int {
        let limit = max(0, min(limit, InboxFilter.maximumBulkReplay))
        return try await database.write { db in
            let chosen = try Self.listing(filter, after: nil, limit: limit, replayableOnly: true, in: db)
            for event in chosen { try Self.replay(event, by: action, in: db) }
            return chosen.count
        }
    }

    public func discard(id: String, by action: AdminAction) async throws -> InboxEvent? {
        try await database.write { db in
            guard let event = try Self.read(id, in: db) else { return nil }
            guard event.isDiscardable else { return event }
            // The token moves on, so no worker can record anything for the event any more.
            try db.execute(
                sql: """
                    UPDATE inbox_events SET status = 'dead', payload = '', last_error = ?, next_attempt_at = NULL,
                        lease_owner = NULL, lease_expires_at = NULL, lease_token = lease_token + 1
                    WHERE id = ?
                    """,
                arguments: [action.discardNote, id])
            try Self.audit(action.auditRecord("discarded", of: event), in: db)
            return try Self.read(id, in: db)
        }
    }

    public func installations(matching filter: InstallationFilter, after position: Tenant?, limit: Int) async throws
        -> [Installation]
    {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(SQLiteInstallationStore.columns) FROM installations
                    WHERE (?1 IS NULL OR instr(account_id, ?1) > 0) AND (?2 IS NULL OR livemode = ?2)
                        AND (?3 IS NULL OR status = ?3)
                        AND (?4 IS NULL OR account_id > ?4 OR (account_id = ?4 AND livemode > ?5))
                        AND (?7 IS NULL OR (blocked_at IS NOT NULL) = ?7)
                    ORDER BY account_id, livemode LIMIT ?6
                    """,
                arguments: [
                    filter.accountContains, filter.mode?.isLive, filter.status?.description, position?.accountID,
                    position?.mode.isLive, max(0, limit), filter.isBlocked,
                ]
            ).map(SQLiteInstallationStore.installation)
        }
    }

    public func block(_ tenant: Tenant, reason: String?, by action: AdminAction) async throws -> Installation? {
        let reason = reason.map { String($0.prefix(TenantBlock.maximumReasonLength)) }
        let record = try await database.writer.write { db -> Installation? in
            guard let current = try SQLiteInstallationStore.read(tenant, in: db) else { return nil }
            guard !current.isBlocked else { return current }
            try db.execute(
                sql: """
                    UPDATE installations SET blocked_at = ?, blocked_by = ?, block_reason = ?
                    WHERE account_id = ? AND livemode = ?
                    """,
                arguments: [
                    action.date.timeIntervalSince1970, action.actor, reason, tenant.accountID, tenant.mode.isLive,
                ])
            try SQLiteJobQueue.cancelJobs(of: tenant, at: action.date.timeIntervalSince1970, in: db)
            try Self.audit(action.blockAuditRecord(of: tenant, isBlocking: true, reason: reason), in: db)
            return try SQLiteInstallationStore.read(tenant, in: db)
        }
        // The signed routes and webhooks of this process see the block at once, not when the cache expires.
        if let record { database.installationCache.written(record) }
        return record
    }

    public func unblock(_ tenant: Tenant, by action: AdminAction) async throws -> Installation? {
        let record = try await database.writer.write { db -> Installation? in
            guard let current = try SQLiteInstallationStore.read(tenant, in: db) else { return nil }
            guard current.isBlocked else { return current }
            try db.execute(
                sql: """
                    UPDATE installations SET blocked_at = NULL, blocked_by = NULL, block_reason = NULL
                    WHERE account_id = ? AND livemode = ?
                    """,
                arguments: [tenant.accountID, tenant.mode.isLive])
            try Self.audit(action.blockAuditRecord(of: tenant, isBlocking: false, reason: nil), in: db)
            return try SQLiteInstallationStore.read(tenant, in: db)
        }
        if let record { database.installationCache.written(record) }
        return record
    }

    public func installationCounts() async throws -> [InstallationCount] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT livemode, status, count(*) FROM installations GROUP BY livemode, status"
            ).map { row in
                guard let status = Installation.Status(row[1] as String) else {
                    throw StoreError.corruptRow("installations")
                }
                return InstallationCount(mode: (row[0] as Bool) ? .live : .test, status: status, count: row[2])
            }
        }
    }

    /// The events of a listing: one index walk per status asked for, merged, newest first.
    private static func listing(
        _ filter: InboxFilter, after position: String?, limit: Int, replayableOnly: Bool = false, in db: Database
    ) throws -> [InboxEvent] {
        let limit = max(0, limit)
        var start: (receivedAt: Double, id: String)?
        if let position {
            guard
                let receivedAt = try Double.fetchOne(
                    db, sql: "SELECT received_at FROM inbox_events WHERE id = ?", arguments: [position])
            else { return [] }
            start = (receivedAt, position)
        }
        var statuses = filter.status.map { [$0] } ?? InboxEvent.Status.all
        if replayableOnly { statuses.removeAll { $0 == .running } }
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(SQLiteEventInbox.columns) FROM inbox_events INDEXED BY inbox_events_status_received
                WHERE status = ?1 AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR account_id = ?3)
                    AND (?4 IS NULL OR livemode = ?4) AND (?5 = 0 OR payload <> '')
                    AND (?6 IS NULL OR (received_at <= ?6 AND (received_at < ?6 OR id < ?7)))
                ORDER BY received_at DESC, id DESC LIMIT ?8
                """
        )
        var events: [(Double, InboxEvent)] = []
        for status in statuses {
            let rows = try Row.fetchAll(
                statement,
                arguments: [
                    status.description, filter.type, filter.accountID, filter.mode?.isLive, replayableOnly,
                    start?.receivedAt, start?.id, limit,
                ])
            events += try rows.map { (($0[5] as Double), try SQLiteEventInbox.event($0)) }
        }
        return events.sorted { ($0.0, $0.1.id) > ($1.0, $1.1.id) }.prefix(limit).map(\.1)
    }

    private static func read(_ id: String, in db: Database) throws -> InboxEvent? {
        try Row.fetchOne(
            db, sql: "SELECT \(SQLiteEventInbox.columns) FROM inbox_events WHERE id = ?", arguments: [id]
        ).map(SQLiteEventInbox.event)
    }

    /// Makes `event` pending again (the token moves on, so a worker still holding it can record nothing) and
    /// records the replay.
    @discardableResult
    private static func replay(_ event: InboxEvent, by action: AdminAction, in db: Database) throws -> InboxEvent {
        try db.cachedStatement(
            sql: """
                UPDATE inbox_events SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_owner = NULL,
                    lease_expires_at = NULL, lease_token = lease_token + 1
                WHERE id = ?
                """
        ).execute(arguments: [event.id])
        try audit(action.auditRecord("replayed", of: event), in: db)
        var replayed = event
        replayed.status = .pending
        replayed.attempts = 0
        replayed.nextAttemptAt = nil
        replayed.leaseOwner = nil
        replayed.leaseExpiresAt = nil
        return replayed
    }

    private static func audit(_ record: AuditRecord?, in db: Database) throws {
        guard let record else { return }
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (account_id, livemode, action, reason, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """
        ).execute(arguments: [
            record.tenant.accountID, record.tenant.mode.isLive, record.action, record.reason,
            record.date.timeIntervalSince1970,
        ])
    }
}
