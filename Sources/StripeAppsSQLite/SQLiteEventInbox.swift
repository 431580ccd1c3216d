public import Foundation
import GRDB
public import StripeApps

/// The webhook inbox in `inbox_events`: stores with group commit, claims under a lease with a fencing token.
///
/// Claims and settlements are write transactions, which SQLite serializes (`BEGIN IMMEDIATE`), so two
/// processes sharing the file never claim one event at once. Deliveries, claims and settlements that wait
/// together share one transaction and one disk sync (group commit).
public struct SQLiteEventInbox: EventInbox {
    let database: SQLiteDatabase

    /// The columns ``event(_:)`` reads, by position: looking a column up by name in a GRDB row compares names
    /// case-insensitively, which cost a measurable part of each claim.
    static let columns = """
        id, type, livemode, account_id, created, received_at, status, attempts, payload, next_attempt_at, \
        last_error, lease_owner, lease_expires_at, lease_token, trace_parent
        """

    public func enqueue(_ event: InboxEvent) async throws -> InboxArrival {
        try await database.traced { try await database.inboxWrites.submit(.store(event)).arrival }
    }

    public func enqueue(_ event: InboxEvent, claimingFor owner: String, now: Date, lease: Duration) async throws
        -> InboxArrival
    {
        let claim = event.claimedOnArrival(by: owner, until: now.addingTimeInterval(lease.timeInterval))
        return try await database.traced { try await database.inboxWrites.submit(.storeClaimed(claim)).arrival }
    }

    /// A write the inbox batches with every other one waiting: deliveries, workers' claims and settlements share
    /// one transaction, and so one disk sync, instead of taking turns at the file's single writer.
    enum Write: Sendable {
        case store(InboxEvent)
        /// A new event stored already leased to the instance that received it.
        case storeClaimed(ClaimedEvent)
        case claim(Claim)
        case settle(InboxSettlement)
    }

    /// What ``claim(now:limit:lease:owner:)`` asks for.
    struct Claim: Sendable {
        let now: Date
        let limit: Int
        let lease: Duration
        let owner: String
    }

    /// What one ``Write`` did.
    enum Outcome: Sendable {
        /// What storing an event did.
        case arrival(InboxArrival)
        /// Whether the settled claim still held its lease.
        case changed(Bool)
        case claimed([ClaimedEvent])

        var arrival: InboxArrival {
            if case .arrival(let arrival) = self { return arrival }
            preconditionFailure("a store has an arrival as its outcome")
        }

        var changed: Bool {
            if case .changed(let changed) = self { return changed }
            preconditionFailure("a settlement has a changed-or-not outcome")
        }

        var claimed: [ClaimedEvent] {
            if case .claimed(let claims) = self { return claims }
            preconditionFailure("a claim has claimed events as its outcome")
        }
    }

    /// Writes a batch in one transaction, in order (a claim sees the deliveries before it in the batch).
    static func write(_ writes: [Write], into writer: any DatabaseWriter) async throws -> [Outcome] {
        try await writer.write { db in
            let insert = try db.cachedStatement(sql: insertSQL)
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
                    return .arrival(try store(event, token: 0, with: insert))
                case .storeClaimed(let claim):
                    let arrival = try store(claim.event, token: claim.token, with: insert)
                    return .arrival(arrival == .stored ? .claimed(claim) : arrival)
                case .settle(let settlement):
                    try settle.execute(arguments: [
                        settlement.status.description, settlement.retryAt?.timeIntervalSince1970, settlement.error,
                        settlement.claim.id, settlement.claim.token,
                    ])
                    return .changed(db.changesCount > 0)
                case .claim(let claim):
                    return .claimed(try claimEvents(claim, in: db))
                }
            }
        }
    }

    /// Stores `event` unless one with its id is there, in a transaction another store opened (the install
    /// callback stores its follow-up with the state it consumes), as ``enqueue(_:)`` stores it.
    @discardableResult
    static func insert(_ event: InboxEvent, in db: Database) throws -> InboxArrival {
        try store(event, token: 0, with: db.cachedStatement(sql: insertSQL))
    }

    /// Runs the insert for `event`: ``InboxArrival/stored`` as given (leased, when it comes leased),
    /// ``InboxArrival/held`` when its tenant is blocked, ``InboxArrival/duplicate`` when its id is there.
    private static func store(_ event: InboxEvent, token: Int64, with insert: Statement) throws -> InboxArrival {
        guard let status = try String.fetchOne(insert, arguments: arguments(event, token: token)) else {
            return .duplicate
        }
        return status == InboxEvent.Status.blocked.description ? .held : .stored
    }

    /// The insert, which holds an event of a blocked tenant (stored blocked, with no attempt and no lease) in the
    /// same statement that stores it, so that a block committed before it is always seen. (`WHERE true` keeps
    /// SQLite from reading `ON CONFLICT` as a join constraint of the `SELECT`.)
    private static let insertSQL = """
        INSERT INTO inbox_events (id, type, livemode, account_id, created, received_at, status, attempts, payload,
            lease_owner, lease_expires_at, lease_token, trace_parent)
        SELECT ?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN held THEN 'blocked' ELSE ?7 END, CASE WHEN held THEN 0 ELSE ?8 END,
            ?9, CASE WHEN held THEN NULL ELSE ?10 END, CASE WHEN held THEN NULL ELSE ?11 END,
            CASE WHEN held THEN 0 ELSE ?12 END, ?13
        FROM (SELECT EXISTS (
            SELECT 1 FROM installations WHERE account_id = ?4 AND livemode = ?3 AND blocked_at IS NOT NULL) AS held)
        WHERE true
        ON CONFLICT (id) DO NOTHING
        RETURNING status
        """

    /// The insert's arguments for `event` with its lease, if any.
    private static func arguments(_ event: InboxEvent, token: Int64) -> StatementArguments {
        [
            event.id, event.type, event.isLiveMode, event.accountID, event.created,
            event.receivedAt.timeIntervalSince1970, event.status.description, event.attempts, event.payload,
            event.leaseOwner, event.leaseExpiresAt?.timeIntervalSince1970, token, event.traceParent,
        ]
    }

    static func claimEvents(_ claim: Claim, in db: Database) throws -> [ClaimedEvent] {
        let nowSeconds = claim.now.timeIntervalSince1970
        // The partial index `inbox_events_claimable` is named, and its `status IN (…)` repeated, so the scan
        // walks the claimable rows in claim order and stops at the limit. Left to itself, SQLite picks
        // `inbox_events_due` and sorts the whole backlog inside the write transaction, holding up every
        // delivery behind it once the worker falls behind.
        let statement = try db.cachedStatement(
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
                RETURNING \(columns), \(SQLiteDatabase.tenantIsBlocked("inbox_events"))
                """
        )
        let rows = try Row.fetchAll(
            statement,
            arguments: [claim.owner, nowSeconds + claim.lease.timeInterval, nowSeconds, max(0, claim.limit)])
        return try rows.map { row in
            ClaimedEvent(
                event: try event(row), token: row[13], owner: claim.owner, tenantBlockedWhenClaimed: row[15])
        }.oldestFirst()
    }

    public func events(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent] {
        try await database.read { db in
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
        try await database.traced {
            try await database.inboxWrites.submit(.claim(Claim(now: now, limit: limit, lease: lease, owner: owner)))
                .claimed
        }
    }

    public func complete(_ claim: ClaimedEvent) async throws -> Bool {
        try await database.traced { try await database.inboxWrites.submit(.settle(.completed(claim))).changed }
    }

    public func fail(_ claim: ClaimedEvent, error: String, retryAt: Date?) async throws -> Bool {
        try await database.traced {
            try await database.inboxWrites.submit(.settle(.failed(claim, error: error, retryAt: retryAt))).changed
        }
    }

    public func setAsideBlocked(_ claim: ClaimedEvent) async throws -> Bool {
        try await database.inboxWrites.submit(.settle(.blocked(claim))).changed
    }

    public func heartbeat(_ claims: [ClaimedEvent], now: Date, lease: Duration) async throws -> Set<String> {
        guard !claims.isEmpty else { return [] }
        let expiry = now.timeIntervalSince1970 + lease.timeInterval
        return try await database.write { db in
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
        try await database.write { db in
            // The token moves on, so a worker still running the event can no longer record anything for it.
            try db.execute(
                sql: """
                    UPDATE inbox_events SET status = 'pending', attempts = 0, next_attempt_at = NULL,
                        lease_owner = NULL, lease_expires_at = NULL, lease_token = lease_token + 1
                    WHERE id = ? AND payload <> ''
                    """,
                arguments: [id]
            )
            return db.changesCount > 0
        }
    }

    public func prune(receivedIn range: Range<Date>, limit: Int) async throws -> Int {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE inbox_events SET payload = '', last_error = NULL
                    WHERE id IN (
                        SELECT id FROM inbox_events INDEXED BY inbox_events_prunable
                        WHERE status IN ('succeeded', 'dead', 'blocked') AND received_at >= ? AND received_at < ?
                            AND payload <> ''
                        ORDER BY received_at, id LIMIT ?)
                    """,
                arguments: [range.lowerBound.timeIntervalSince1970, range.upperBound.timeIntervalSince1970, limit]
            )
            return db.changesCount
        }
    }

    /// An event from a row of ``columns``, in that order.
    static func event(_ row: Row) throws -> InboxEvent {
        guard let status = InboxEvent.Status(name: row[6]) else { throw StoreError.corruptRow("inbox_events") }
        return InboxEvent(
            id: row[0],
            type: row[1],
            isLiveMode: row[2],
            accountID: row[3],
            created: row[4],
            receivedAt: Date(unixSeconds: row[5]),
            status: status,
            attempts: row[7],
            payload: row[8],
            nextAttemptAt: (row[9] as Double?).map(Date.init(unixSeconds:)),
            lastError: row[10],
            leaseOwner: row[11],
            leaseExpiresAt: (row[12] as Double?).map(Date.init(unixSeconds:)),
            traceParent: row[14]
        )
    }
}
