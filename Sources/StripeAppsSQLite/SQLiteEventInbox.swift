public import Foundation
import GRDB
public import StripeApps

/// The webhook inbox in `inbox_events`: stores with group commit, claims under a lease with a fencing token.
///
/// Claims and settlements are write transactions, which SQLite serializes (`BEGIN IMMEDIATE`), so two
/// processes sharing the file never claim one event at once. Deliveries and workers' settlements that wait
/// together share one transaction and one disk sync (group commit).
public struct SQLiteEventInbox: EventInbox {
    let database: SQLiteDatabase

    static let columns = """
        id, type, livemode, account_id, created, received_at, status, attempts, payload, next_attempt_at, \
        last_error, lease_owner, lease_expires_at, lease_token
        """

    public func enqueue(_ event: InboxEvent) async throws -> Bool {
        try await database.inboxWrites.submit(.store(event))
    }

    /// A write the inbox batches with every other one waiting: deliveries and workers' settlements share one
    /// transaction, and so one disk sync, instead of taking turns at the file's single writer.
    enum Write: Sendable {
        case store(InboxEvent)
        case settle(InboxSettlement)
    }

    /// Writes a batch in one transaction; each output says whether that event was new, or whether that claim
    /// still held its lease.
    static func write(_ writes: [Write], into writer: any DatabaseWriter) async throws -> [Bool] {
        try await writer.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO inbox_events (id, type, livemode, account_id, created, received_at, status, attempts, payload)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """
            )
            let settle = try db.cachedStatement(
                sql: """
                    UPDATE inbox_events SET status = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL,
                        lease_expires_at = NULL
                    WHERE id = ? AND lease_token = ? AND status = 'running'
                    """
            )
            return try writes.map { write in
                switch write {
                case .store(let event):
                    try insert.execute(arguments: [
                        event.id, event.type, event.isLiveMode, event.accountID, event.created,
                        event.receivedAt.timeIntervalSince1970, event.status.description, event.attempts, event.payload,
                    ])
                case .settle(let settlement):
                    try settle.execute(arguments: [
                        settlement.status.description, settlement.retryAt?.timeIntervalSince1970, settlement.error,
                        settlement.claim.id, settlement.claim.token,
                    ])
                }
                return db.changesCount > 0
            }
        }
    }

    public func events(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent] {
        try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns) FROM inbox_events
                    WHERE ?1 IS NULL OR status = ?1 ORDER BY received_at DESC, id DESC LIMIT ?2
                    """,
                arguments: [status?.description, limit]
            ).map { try Self.event($0) }
        }
    }

    public func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedEvent] {
        let nowSeconds = now.timeIntervalSince1970
        let expiry = nowSeconds + lease.timeInterval
        return try await database.writer.write { db in
            // The partial index `inbox_events_claimable` is named, and its `status IN (…)` repeated, so the scan
            // walks the claimable rows in claim order and stops at the limit. Left to itself, SQLite picks
            // `inbox_events_due` and sorts the whole backlog inside the write transaction, holding up every
            // delivery behind it once the worker falls behind.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE inbox_events SET status = 'running', attempts = attempts + 1, lease_owner = ?1,
                        lease_expires_at = ?2, lease_token = lease_token + 1
                    WHERE id IN (
                        SELECT id FROM inbox_events INDEXED BY inbox_events_claimable
                        WHERE status IN ('pending', 'failed', 'running')
                            AND (status = 'pending'
                                OR (status = 'failed' AND (next_attempt_at IS NULL OR next_attempt_at <= ?3))
                                OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= ?3)))
                        ORDER BY created, received_at, id LIMIT ?4)
                    RETURNING \(Self.columns)
                    """,
                arguments: [owner, expiry, nowSeconds, max(0, limit)]
            )
            return try rows.map { row in
                ClaimedEvent(event: try Self.event(row), token: row["lease_token"], owner: owner)
            }.oldestFirst()
        }
    }

    public func complete(_ claim: ClaimedEvent) async throws -> Bool {
        try await database.inboxWrites.submit(.settle(.completed(claim)))
    }

    public func fail(_ claim: ClaimedEvent, error: String, retryAt: Date?) async throws -> Bool {
        try await database.inboxWrites.submit(.settle(.failed(claim, error: error, retryAt: retryAt)))
    }

    public func heartbeat(_ claims: [ClaimedEvent], now: Date, lease: Duration) async throws -> Set<String> {
        guard !claims.isEmpty else { return [] }
        let expiry = now.timeIntervalSince1970 + lease.timeInterval
        return try await database.writer.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE inbox_events SET lease_expires_at = ?
                    WHERE id = ? AND lease_token = ? AND status = 'running'
                    """
            )
            var extended = Set<String>()
            for claim in claims {
                try statement.execute(arguments: [expiry, claim.id, claim.token])
                if db.changesCount > 0 { extended.insert(claim.id) }
            }
            return extended
        }
    }

    public func replay(id: String) async throws -> Bool {
        try await database.writer.write { db in
            // The token moves on, so a worker still running the event can no longer record anything for it.
            try db.execute(
                sql: """
                    UPDATE inbox_events SET status = 'pending', attempts = 0, next_attempt_at = NULL,
                        lease_owner = NULL, lease_expires_at = NULL, lease_token = lease_token + 1
                    WHERE id = ?
                    """,
                arguments: [id]
            )
            return db.changesCount > 0
        }
    }

    static func event(_ row: Row) throws -> InboxEvent {
        guard let status = InboxEvent.Status(name: row["status"]) else { throw StoreError.corruptRow("inbox_events") }
        return InboxEvent(
            id: row["id"],
            type: row["type"],
            isLiveMode: row["livemode"],
            accountID: row["account_id"],
            created: row["created"],
            receivedAt: Date(unixSeconds: row["received_at"]),
            status: status,
            attempts: row["attempts"],
            payload: row["payload"],
            nextAttemptAt: (row["next_attempt_at"] as Double?).map(Date.init(unixSeconds:)),
            lastError: row["last_error"],
            leaseOwner: row["lease_owner"],
            leaseExpiresAt: (row["lease_expires_at"] as Double?).map(Date.init(unixSeconds:))
        )
    }
}
