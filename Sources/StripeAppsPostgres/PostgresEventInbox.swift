public import Foundation
import Logging
import PostgresNIO
public import StripeApps

/// The webhook inbox in `inbox_events`, shared by every instance.
///
/// Deliveries that arrive together are stored by one `INSERT … SELECT FROM unnest(…)` (group commit: one
/// commit, synced, for all of them; each caller is answered after it). A claim is one statement: a
/// `MATERIALIZED` CTE picks the oldest due rows `FOR NO KEY UPDATE SKIP LOCKED`, and an `UPDATE … RETURNING`
/// sets the owner, bumps attempts and the fencing token, and sets the lease end from the database clock. No
/// session state is needed, so it works through a transaction-mode pooler.
public struct PostgresEventInbox: EventInbox {
    let database: PostgresDatabase

    typealias Row = (
        String, String, Bool, String?, Int64, Double, String, Int, String, Double?, String?, String?, Double?, Int64,
        String?
    )

    /// A claimed row: ``Row``, then whether the event's tenant is blocked.
    typealias ClaimRow = (
        String, String, Bool, String?, Int64, Double, String, Int, String, Double?, String?, String?, Double?, Int64,
        String?, Bool
    )

    static let columns = """
        id, type, livemode, account_id, created, received_at, status, attempts, payload, next_attempt_at, \
        last_error, lease_owner, lease_expires_at, lease_token, trace_parent
        """

    public func enqueue(_ event: InboxEvent) async throws -> InboxArrival {
        try await database.traced { try await database.enqueueBatcher.submit(Delivery(event: event, claim: nil)) }
    }

    public func enqueue(_ event: InboxEvent, claimingFor owner: String, now: Date, lease: Duration) async throws
        -> InboxArrival
    {
        try await database.traced {
            try await database.enqueueBatcher.submit(Delivery(event: event, claim: (owner, lease.timeInterval)))
        }
    }

    /// An event to store, and the lease to store it under when the receiving instance runs it itself.
    struct Delivery: Sendable {
        let event: InboxEvent
        let claim: (owner: String, seconds: Double)?
    }

    /// Inserts a batch of deliveries in one statement. When any was stored pending, every instance's worker is
    /// woken; events stored claimed, or stored done, need no one else. An event of a blocked tenant is held (stored
    /// blocked, with no attempt and no lease) by the same statement, so that a block committed before it is seen
    /// with no read of its own: a delivery costs no query but its share of the batch.
    /// `prepared` runs it as ``InsertStatement``.
    static func insert(_ deliveries: [Delivery], client: PostgresClient, prepared: Bool, logger: Logger) async throws
        -> [InboxArrival]
    {
        do {
            var inserted: [String: (status: String, leaseExpiresAt: Double?)] = [:]
            let query = insertQuery(deliveries)
            let rows: AsyncThrowingMapSequence<PostgresRowSequence, InsertStatement.Row>
            if prepared {
                rows = try await client.execute(InsertStatement(query.binds), logger: logger)
            } else {
                rows = try await client.query(query, logger: logger).map { try $0.decode(InsertStatement.Row.self) }
            }
            var storedPending = false
            for try await (id, leaseExpiresAt, status) in rows {
                inserted[id] = (status, leaseExpiresAt)
                storedPending = storedPending || status == InboxEvent.Status.pending.description
            }
            if storedPending {
                try await client.query("SELECT pg_notify(\(PostgresDatabase.inboxChannel), '')", logger: logger)
            }
            // A batch may hold the same id twice (a retried delivery): only its first copy is new.
            var answered = Set<String>()
            return deliveries.map { delivery in
                let event = delivery.event
                guard let row = inserted[event.id], answered.insert(event.id).inserted else { return .duplicate }
                if row.status == InboxEvent.Status.blocked.description { return .held }
                guard let owner = delivery.claim?.owner, let leaseExpiresAt = row.leaseExpiresAt else { return .stored }
                // The lease end comes from the database clock, as a claim's does.
                return .claimed(event.claimedOnArrival(by: owner, until: Date(unixSeconds: leaseExpiresAt)))
            }
        } catch {
            throw PostgresDatabase.storeError(error)
        }
    }

    /// The insert of `deliveries`: one row per delivery, from one array per column.
    static func insertQuery(_ deliveries: [Delivery]) -> PostgresQuery {
        let events = deliveries.map(\.event)
        return """
            WITH stored AS (
                INSERT INTO inbox_events (id, type, livemode, account_id, created, received_at, status, attempts,
                    payload, lease_owner, lease_expires_at, lease_token, trace_parent)
                SELECT id, type, livemode, NULLIF(account_id, ''), created, received_at,
                    CASE WHEN held THEN 'blocked' WHEN owner = '' THEN status ELSE 'running' END,
                    CASE WHEN held THEN 0 WHEN owner = '' THEN attempts ELSE 1 END, payload,
                    CASE WHEN NOT held THEN NULLIF(owner, '') END,
                    CASE WHEN owner <> '' AND NOT held THEN EXTRACT(EPOCH FROM now())::float8 + lease END,
                    CASE WHEN owner = '' OR held THEN 0 ELSE 1 END, NULLIF(trace_parent, '')
                FROM (SELECT incoming.*, \(unescaped: PostgresDatabase.tenantIsBlocked("incoming")) AS held
                FROM unnest(\(events.map(\.id)), \(events.map(\.type)), \(events.map(\.isLiveMode)),
                    \(events.map { $0.accountID ?? "" }), \(events.map(\.created)),
                    \(events.map(\.receivedAt.timeIntervalSince1970)), \(events.map(\.status.description)),
                    \(events.map(\.attempts)), \(events.map(\.payload)), \(deliveries.map { $0.claim?.owner ?? "" }),
                    \(deliveries.map { $0.claim?.seconds ?? 0 }), \(events.map { $0.traceParent ?? "" }))
                    AS incoming (id, type, livemode, account_id, created, received_at, status, attempts, payload,
                        owner, lease, trace_parent)) AS incoming
                ON CONFLICT (id) DO NOTHING
                RETURNING id, lease_expires_at, status
            )
            SELECT * FROM stored
            """
    }

    /// The insert as a statement prepared once per connection: PostgreSQL parses and plans it once instead of for
    /// every batch, which had been about as much work as running it. Its text is the one ``insertQuery(_:)``
    /// builds for any batch (the values are bound, one array per column).
    struct InsertStatement: PostgresPreparedStatement {
        typealias Row = (String, Double?, String)
        static let name = "stripe_apps_inbox_insert"
        static let sql = insertQuery([]).sql
        let binds: PostgresBindings

        init(_ binds: PostgresBindings) { self.binds = binds }

        func makeBindings() -> PostgresBindings { binds }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    public func events(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent] {
        let rows: [Row]
        if let status {
            rows = try await database.rows(
                """
                SELECT \(unescaped: Self.columns) FROM inbox_events WHERE status = \(status.description)
                ORDER BY received_at DESC, id DESC LIMIT \(limit)
                """,
                as: Row.self)
        } else {
            rows = try await database.rows(
                "SELECT \(unescaped: Self.columns) FROM inbox_events ORDER BY received_at DESC, id DESC LIMIT \(limit)",
                as: Row.self)
        }
        return try rows.map { try Self.event($0).event }
    }

    public func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedEvent] {
        guard limit > 0 else { return [] }
        // As the job queue's claim: expired leases first through `inbox_events_leased` (running rows only), then
        // due events in claim order through `inbox_events_ready` (pending and failed rows only). The index this
        // replaced also held running rows, and every claim and outcome left a dead entry at its head, so each
        // claim walked further into them; `= ANY(ARRAY(…))` keeps the update on the primary key.
        let rows = try await database.rows(
            """
            WITH expired AS MATERIALIZED (
                SELECT id FROM inbox_events
                WHERE status = 'running' AND lease_expires_at <= EXTRACT(EPOCH FROM now())::float8
                ORDER BY lease_expires_at
                LIMIT \(limit)
                FOR NO KEY UPDATE SKIP LOCKED
            ),
            due AS MATERIALIZED (
                SELECT id FROM inbox_events
                WHERE status IN ('pending', 'failed')
                    AND (status = 'pending' OR next_attempt_at IS NULL
                        OR next_attempt_at <= \(now.timeIntervalSince1970))
                ORDER BY created, received_at, id
                LIMIT (\(limit) - (SELECT count(*) FROM expired))
                FOR NO KEY UPDATE SKIP LOCKED
            )
            UPDATE inbox_events AS e SET status = 'running', attempts = e.attempts + 1, lease_owner = \(owner),
                lease_expires_at = EXTRACT(EPOCH FROM now())::float8 + \(lease.timeInterval),
                lease_token = e.lease_token + 1
            WHERE e.id = ANY(ARRAY(SELECT id FROM expired UNION ALL SELECT id FROM due))
            RETURNING \(unescaped: Self.columns.split(separator: ",").map { "e." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")),
                \(unescaped: PostgresDatabase.tenantIsBlocked("e"))
            """,
            as: ClaimRow.self)
        return try rows.map { r in
            let (event, token) = try Self.event(
                (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14))
            return ClaimedEvent(event: event, token: token, owner: owner, tenantBlockedWhenClaimed: r.15)
        }.oldestFirst()
    }

    public func complete(_ claim: ClaimedEvent) async throws -> Bool {
        try await database.traced { try await database.settleBatcher.submit(.completed(claim)) }
    }

    public func fail(_ claim: ClaimedEvent, error: String, retryAt: Date?) async throws -> Bool {
        try await database.traced {
            try await database.settleBatcher.submit(.failed(claim, error: error, retryAt: retryAt))
        }
    }

    public func setAsideBlocked(_ claim: ClaimedEvent) async throws -> Bool {
        try await database.settleBatcher.submit(.blocked(claim))
    }

    /// Writes a batch of settlements in one statement; each output says whether that claim still held its lease.
    static func settle(_ settlements: [InboxSettlement], client: PostgresClient, logger: Logger) async throws -> [Bool]
    {
        do {
            var held = Set<Int>()
            let rows = try await client.query(
                """
                UPDATE inbox_events AS e SET status = s.status,
                    next_attempt_at = CASE WHEN s.has_retry THEN s.retry_at END,
                    last_error = CASE WHEN s.has_error THEN s.error END,
                    lease_owner = NULL, lease_expires_at = NULL
                FROM unnest(\(settlements.indices.map { $0 }), \(settlements.map(\.claim.id)),
                    \(settlements.map(\.claim.token)), \(settlements.map(\.status.description)),
                    \(settlements.map { $0.retryAt != nil }), \(settlements.map { $0.retryAt?.timeIntervalSince1970 ?? 0 }),
                    \(settlements.map { $0.error != nil }), \(settlements.map { $0.error ?? "" }))
                    AS s (position, id, token, status, has_retry, retry_at, has_error, error)
                WHERE e.id = s.id AND e.lease_token = s.token AND e.status = 'running'
                RETURNING s.position
                """,
                logger: logger)
            for try await position in rows.decode(Int.self) { held.insert(position) }
            return settlements.indices.map { held.contains($0) }
        } catch {
            throw PostgresDatabase.storeError(error)
        }
    }

    public func heartbeat(_ claims: [ClaimedEvent], now: Date, lease: Duration) async throws -> Set<String> {
        guard !claims.isEmpty else { return [] }
        // SKIP LOCKED: a row locked now is being settled (or claimed again) by another statement. Waiting for it
        // would let a heartbeat and a batch of settlements lock the same rows in different orders, which
        // PostgreSQL resolves by aborting one of them (a deadlock); a row being settled needs no longer lease.
        let rows = try await database.rows(
            """
            WITH held AS MATERIALIZED (
                SELECT e.id FROM inbox_events AS e
                JOIN unnest(\(claims.map(\.id)), \(claims.map(\.token))) AS c (id, token)
                    ON e.id = c.id AND e.lease_token = c.token
                WHERE e.status = 'running'
                FOR NO KEY UPDATE OF e SKIP LOCKED
            )
            UPDATE inbox_events AS e SET lease_expires_at = EXTRACT(EPOCH FROM now())::float8 + \(lease.timeInterval)
            FROM held WHERE e.id = held.id
            RETURNING e.id
            """,
            as: String.self)
        return Set(rows)
    }

    public func replay(id: String) async throws -> Bool {
        // The token moves on, so a worker still running the event can no longer record anything for it.
        try await !database.rows(
            """
            UPDATE inbox_events SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_owner = NULL,
                lease_expires_at = NULL, lease_token = lease_token + 1
            WHERE id = \(id) AND payload <> ''
            RETURNING id
            """,
            as: String.self
        ).isEmpty
    }

    public func prune(receivedIn range: Range<Date>, limit: Int) async throws -> Int {
        try await database.rows(
            """
            UPDATE inbox_events SET payload = '', last_error = NULL
            WHERE id IN (
                SELECT id FROM inbox_events
                WHERE status IN ('succeeded', 'dead', 'blocked')
                    AND received_at >= \(range.lowerBound.timeIntervalSince1970)
                    AND received_at < \(range.upperBound.timeIntervalSince1970) AND payload <> ''
                ORDER BY received_at, id LIMIT \(limit)
                FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            as: String.self
        ).count
    }

    static func event(_ row: Row) throws -> (event: InboxEvent, token: Int64) {
        guard let status = InboxEvent.Status(name: row.6) else { throw StoreError.corruptRow("inbox_events") }
        let event = InboxEvent(
            id: row.0,
            type: row.1,
            isLiveMode: row.2,
            accountID: row.3,
            created: row.4,
            receivedAt: Date(unixSeconds: row.5),
            status: status,
            attempts: row.7,
            payload: row.8,
            nextAttemptAt: row.9.map(Date.init(unixSeconds:)),
            lastError: row.10,
            leaseOwner: row.11,
            leaseExpiresAt: row.12.map(Date.init(unixSeconds:)),
            traceParent: row.14
        )
        return (event, row.13)
    }
}
