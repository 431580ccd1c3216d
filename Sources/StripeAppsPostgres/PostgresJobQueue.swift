public import Foundation
import Logging
import PostgresNIO
public import StripeApps

/// The job queue in the `jobs` table, shared by every instance. A claim is one statement: a `MATERIALIZED` CTE
/// picks due rows in claim order `FOR NO KEY UPDATE SKIP LOCKED`, and an `UPDATE … RETURNING` bumps attempts and
/// the fencing token and sets the lease end from the database clock, so instances with skewed clocks agree on
/// when a lease ends (run times, `runAt`, are compared with the `now` given, as the inbox's retry times are).
public struct PostgresJobQueue: JobQueue {
    let database: PostgresDatabase

    typealias Row = (
        String, String, String?, Bool?, String, Int, String, Int, Int, Double, Double, Double?, String?, String?,
        Double?, Bool, Double?, String?, String?, Int64
    )

    /// A claimed row: ``Row``, then whether the job's tenant is blocked.
    typealias ClaimRow = (
        String, String, String?, Bool?, String, Int, String, Int, Int, Double, Double, Double?, String?, String?,
        Double?, Bool, Double?, String?, String?, Int64, Bool
    )

    static let columns = """
        id, name, account_id, livemode, parameters, priority, status, attempts, max_attempts, run_at, queued_at, \
        finished_at, last_error, lease_owner, lease_expires_at, cancel_requested, progress, progress_message, \
        slot_key, lease_token
        """

    public func push(_ job: NewJob, now: Date) async throws -> JobRecord? {
        let record = JobRecord(job, queuedAt: now)
        return try await database.traced { try await database.jobPushBatcher.submit(record) ? record : nil }
    }

    /// Stores a batch of pushes in one statement (group commit), and wakes other instances' workers once;
    /// each output says whether that job was stored (its slot key was free).
    static func push(_ records: [JobRecord], client: PostgresClient, logger: Logger) async throws -> [Bool] {
        do {
            var stored = Set<String>()
            for try await id in try await client.query(insertQuery(records, notifying: true), logger: logger)
                .decode(String?.self)
            {
                if let id { stored.insert(id) }
            }
            return records.map { stored.contains($0.id) }
        } catch {
            throw PostgresDatabase.storeError(error)
        }
    }

    public func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        let prefixed = Self.columns.split(separator: ",").map { "j." + $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: ", ")
        // One statement, one round trip: it ends the stops whose worker died, takes expired leases first (each
        // through the small `jobs_leased` index), then due jobs in claim order through `jobs_ready`, which holds
        // only pending and failed rows, so a claim does not walk past the jobs running now. `= ANY(ARRAY(…))`
        // keeps the update on the primary key (a join was planned as a scan of the whole table).
        let rows = try await database.rows(
            """
            WITH stopped AS (
                UPDATE jobs SET status = 'cancelled', finished_at = EXTRACT(EPOCH FROM now())::float8,
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE status = 'running' AND cancel_requested
                    AND lease_expires_at <= EXTRACT(EPOCH FROM now())::float8
            ),
            expired AS MATERIALIZED (
                SELECT id FROM jobs
                WHERE status = 'running' AND NOT cancel_requested
                    AND lease_expires_at <= EXTRACT(EPOCH FROM now())::float8
                ORDER BY lease_expires_at
                LIMIT \(limit)
                FOR NO KEY UPDATE SKIP LOCKED
            ),
            due AS MATERIALIZED (
                SELECT id FROM jobs
                WHERE status IN ('pending', 'failed') AND run_at <= \(now.timeIntervalSince1970)
                ORDER BY priority DESC, run_at, id
                LIMIT (\(limit) - (SELECT count(*) FROM expired))
                FOR NO KEY UPDATE SKIP LOCKED
            )
            UPDATE jobs AS j SET status = 'running', attempts = j.attempts + 1, lease_owner = \(owner),
                lease_expires_at = EXTRACT(EPOCH FROM now())::float8 + \(lease.timeInterval),
                lease_token = j.lease_token + 1
            WHERE j.id = ANY(ARRAY(SELECT id FROM expired UNION ALL SELECT id FROM due))
            RETURNING \(unescaped: prefixed), \(unescaped: PostgresDatabase.tenantIsBlocked("j"))
            """,
            as: ClaimRow.self)
        return try rows.map { r in
            let (job, token) = try Self.job(
                (
                    r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14, r.15, r.16, r.17,
                    r.18, r.19
                ))
            return ClaimedJob(job: job, token: token, owner: owner, tenantBlockedWhenClaimed: r.20)
        }.sorted { JobRecord.claimOrder($0.job, $1.job) }
    }

    public func complete(_ claim: ClaimedJob, now: Date) async throws -> Bool {
        try await database.traced { try await database.jobSettleBatcher.submit(.completed(claim, now: now)) }
    }

    public func fail(_ claim: ClaimedJob, error: String, retryAt: Date?, now: Date) async throws -> Bool {
        try await database.traced {
            try await database.jobSettleBatcher.submit(.failed(claim, error: error, retryAt: retryAt, now: now))
        }
    }

    public func stopped(_ claim: ClaimedJob, now: Date) async throws -> Bool {
        try await database.traced { try await database.jobSettleBatcher.submit(.stopped(claim, now: now)) }
    }

    /// Writes a batch of outcomes in one statement; each output says whether that claim still held its lease.
    static func settle(_ settlements: [JobSettlement], client: PostgresClient, logger: Logger) async throws -> [Bool] {
        do {
            var held = Set<Int>()
            let rows = try await client.query(
                """
                UPDATE jobs AS j SET status = s.status,
                    run_at = CASE WHEN s.has_run_at THEN s.run_at ELSE j.run_at END,
                    finished_at = CASE WHEN s.has_finished THEN s.finished_at END,
                    last_error = CASE WHEN s.has_error THEN s.error ELSE j.last_error END,
                    lease_owner = NULL, lease_expires_at = NULL, cancel_requested = false
                FROM unnest(\(settlements.indices.map { $0 }), \(settlements.map(\.id)), \(settlements.map(\.token)),
                    \(settlements.map(\.status.description)), \(settlements.map { $0.runAt != nil }),
                    \(settlements.map { $0.runAt ?? 0 }), \(settlements.map { $0.finishedAt != nil }),
                    \(settlements.map { $0.finishedAt ?? 0 }), \(settlements.map { $0.error != nil }),
                    \(settlements.map { $0.error ?? "" }))
                    AS s (position, id, token, status, has_run_at, run_at, has_finished, finished_at, has_error, error)
                WHERE j.id = s.id AND j.lease_token = s.token AND j.status = 'running'
                RETURNING s.position
                """,
                logger: logger)
            for try await position in rows.decode(Int.self) { held.insert(position) }
            return settlements.indices.map { held.contains($0) }
        } catch {
            throw PostgresDatabase.storeError(error)
        }
    }

    public func heartbeat(_ claims: [ClaimedJob], now: Date, lease: Duration) async throws -> [String: Bool] {
        guard !claims.isEmpty else { return [:] }
        // SKIP LOCKED, as the inbox's heartbeat: a row being settled needs no longer lease, and waiting for it
        // could deadlock with the settlement.
        let rows = try await database.rows(
            """
            WITH held AS MATERIALIZED (
                SELECT j.id FROM jobs AS j
                JOIN unnest(\(claims.map(\.id)), \(claims.map(\.token))) AS c (id, token)
                    ON j.id = c.id AND j.lease_token = c.token
                WHERE j.status = 'running'
                FOR NO KEY UPDATE OF j SKIP LOCKED
            )
            UPDATE jobs AS j SET lease_expires_at = EXTRACT(EPOCH FROM now())::float8 + \(lease.timeInterval)
            FROM held WHERE j.id = held.id
            RETURNING j.id, j.cancel_requested
            """,
            as: (String, Bool).self)
        return Dictionary(rows.map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
    }

    public func recordProgress(_ claim: ClaimedJob, fraction: Double?, message: String?) async throws -> Bool {
        try await !database.rows(
            """
            UPDATE jobs SET progress = \(JobRecord.storedProgress(fraction)),
                progress_message = \(JobRecord.storedProgressMessage(message))
            WHERE id = \(claim.id) AND lease_token = \(claim.token) AND status = 'running'
            RETURNING id
            """,
            as: String.self
        ).isEmpty
    }

    public func cancel(id: String, now: Date) async throws -> JobRecord? {
        let rows = try await database.rows(
            """
            WITH changed AS (
                UPDATE jobs SET
                    status = CASE WHEN status IN ('pending', 'failed') THEN 'cancelled' ELSE status END,
                    finished_at = CASE WHEN status IN ('pending', 'failed') THEN \(now.timeIntervalSince1970)
                        ELSE finished_at END,
                    cancel_requested = CASE WHEN status = 'running' THEN true ELSE cancel_requested END
                WHERE id = \(id)
                RETURNING \(unescaped: Self.columns)
            )
            SELECT \(unescaped: Self.columns) FROM changed
            """,
            as: Row.self)
        return try rows.first.map { try Self.job($0).0 }
    }

    public func replay(id: String, now: Date) async throws -> Bool {
        try await !database.rows(
            """
            UPDATE jobs SET status = 'pending', attempts = 0, run_at = \(now.timeIntervalSince1970),
                finished_at = NULL, cancel_requested = false, lease_owner = NULL, lease_expires_at = NULL,
                lease_token = lease_token + 1
            WHERE id = \(id) AND status IN ('dead', 'cancelled')
            RETURNING id
            """,
            as: String.self
        ).isEmpty
    }

    public func job(id: String) async throws -> JobRecord? {
        try await database.rows("SELECT \(unescaped: Self.columns) FROM jobs WHERE id = \(id)", as: Row.self)
            .first.map { try Self.job($0).0 }
    }

    public func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await database.rows(
            """
            DELETE FROM jobs WHERE id IN (
                SELECT id FROM jobs
                WHERE status IN ('succeeded', 'cancelled', 'dead') AND finished_at < \(cutoff.timeIntervalSince1970)
                ORDER BY finished_at LIMIT \(max(0, limit))
                FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            as: String.self
        ).count
    }

    public func jobs(status: JobRecord.Status?, limit: Int) async throws -> [JobRecord] {
        try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM jobs
            WHERE \(status?.description)::text IS NULL OR status = \(status?.description)
            ORDER BY queued_at DESC, id DESC LIMIT \(max(0, limit))
            """,
            as: Row.self
        ).map { try Self.job($0).0 }
    }

    /// Stores new pending jobs in one statement, skipping those whose slot key is taken; returns the ids stored.
    /// (Arrays of optionals do not bind: a missing tenant or slot key travels as `''`, a missing mode as -1.)
    ///
    /// `notifying` adds, in the same statement, a `NOTIFY` that wakes other instances' workers when a job was
    /// stored (one row of `NULL` in the output then): one round trip and one commit per batch, not two.
    static func insertQuery(_ records: [JobRecord], notifying: Bool = false) -> PostgresQuery {
        var query: PostgresQuery = """
            INSERT INTO jobs (id, name, account_id, livemode, parameters, priority, status, attempts, max_attempts,
                run_at, queued_at, slot_key)
            SELECT id, name, NULLIF(account_id, ''), CASE livemode WHEN 1 THEN true WHEN 0 THEN false END, parameters,
                priority, 'pending', 0, max_attempts, run_at, queued_at, NULLIF(slot_key, '')
            FROM unnest(\(records.map(\.id)), \(records.map(\.name)), \(records.map { $0.tenant?.accountID ?? "" }),
                \(records.map { $0.tenant.map { $0.mode.isLive ? 1 : 0 } ?? -1 }), \(records.map(\.parameters)),
                \(records.map(\.priority)), \(records.map(\.maxAttempts)), \(records.map(\.runAt.timeIntervalSince1970)),
                \(records.map(\.queuedAt.timeIntervalSince1970)), \(records.map { $0.slotKey ?? "" }))
                AS n (id, name, account_id, livemode, parameters, priority, max_attempts, run_at, queued_at, slot_key)
            ON CONFLICT DO NOTHING
            RETURNING id
            """
        guard notifying else { return query }
        query.sql = """
            WITH inserted AS (\(query.sql))
            SELECT id FROM inserted
            UNION ALL
            SELECT NULL FROM (SELECT pg_notify('\(PostgresDatabase.jobsChannel)', '')) AS woken
            WHERE EXISTS (SELECT 1 FROM inserted)
            """
        return query
    }

    /// The uninstall of a tenant, inside the transaction that deactivates it: pending and failed jobs are
    /// cancelled, running ones asked to stop.
    static func cancelJobs(of tenant: Tenant, at date: Date) -> PostgresQuery {
        """
        UPDATE jobs SET
            status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
            finished_at = CASE WHEN status = 'running' THEN finished_at ELSE \(date.timeIntervalSince1970) END,
            cancel_requested = CASE WHEN status = 'running' THEN true ELSE cancel_requested END
        WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive)
            AND status IN ('pending', 'failed', 'running')
        """
    }

    static func job(_ row: Row) throws -> (JobRecord, Int64) {
        guard let status = JobRecord.Status(name: row.6) else { throw StoreError.corruptRow("jobs") }
        let tenant = row.2.flatMap { account in row.3.map { Tenant(accountID: account, mode: $0 ? .live : .test) } }
        let job = JobRecord(
            id: row.0, name: row.1, tenant: tenant, parameters: row.4, priority: row.5, status: status,
            attempts: row.7, maxAttempts: row.8, runAt: Date(unixSeconds: row.9), queuedAt: Date(unixSeconds: row.10),
            finishedAt: row.11.map(Date.init(unixSeconds:)), lastError: row.12, leaseOwner: row.13,
            leaseExpiresAt: row.14.map(Date.init(unixSeconds:)), cancelRequested: row.15, progress: row.16,
            progressMessage: row.17, slotKey: row.18)
        return (job, row.19)
    }
}

extension PostgresJobQueue: ScheduleStore {
    public func advance(
        schedule name: String,
        now: Date,
        withInstallations: Bool,
        plan: @Sendable (ScheduleCursor) -> SchedulePlan
    ) async throws -> (plan: SchedulePlan, pushed: Int)? {
        let logger = database.logger
        let result = try await database.transaction { connection -> (SchedulePlan, Int)? in
            try await connection.query(
                """
                INSERT INTO job_schedules (name, last_slot, updated_at)
                VALUES (\(name), NULL, EXTRACT(EPOCH FROM now())::float8) ON CONFLICT DO NOTHING
                """, logger: logger)
            // SKIP LOCKED: an instance advancing the schedule now holds the row; this one leaves it the round.
            guard
                let (lastSlot, databaseNow) = try await connection.rows(
                    """
                    SELECT last_slot, EXTRACT(EPOCH FROM now())::float8 FROM job_schedules WHERE name = \(name)
                    FOR UPDATE SKIP LOCKED
                    """,
                    as: (Double?, Double).self, logger: logger
                ).first
            else { return nil }
            let tenants =
                withInstallations
                ? try await connection.rows(
                    """
                    SELECT account_id, livemode FROM installations WHERE status = 'active' AND blocked_at IS NULL
                    ORDER BY account_id, livemode
                    """,
                    as: (String, Bool).self, logger: logger
                ).map { Tenant(accountID: $0.0, mode: $0.1 ? .live : .test) } : []
            let clock = Date(unixSeconds: databaseNow)
            let decided = plan(
                ScheduleCursor(lastSlot: lastSlot.map(Date.init(unixSeconds:)), now: clock, tenants: tenants))
            var pushed = 0
            for batch in stride(from: 0, to: decided.jobs.count, by: 1000) {
                let records = decided.jobs[batch..<min(batch + 1000, decided.jobs.count)].map {
                    JobRecord($0, queuedAt: clock)
                }
                pushed += try await connection.rows(Self.insertQuery(records), as: String.self, logger: logger).count
            }
            let summary = decided.summary
            try await connection.query(
                """
                UPDATE job_schedules SET last_slot = \(decided.resumeAfter.timeIntervalSince1970),
                    next_slot = \(decided.nextSlot?.timeIntervalSince1970), updated_at = \(databaseNow),
                    job_name = COALESCE(\(summary?.jobName), job_name), timing = COALESCE(\(summary?.timing), timing),
                    per_installation = COALESCE(\(summary?.perInstallation), per_installation),
                    jitter_seconds = COALESCE(\(summary?.jitter.timeInterval), jitter_seconds)
                WHERE name = \(name)
                """, logger: logger)
            if pushed > 0 {
                try await connection.query("SELECT pg_notify(\(PostgresDatabase.jobsChannel), '')", logger: logger)
            }
            return (decided, pushed)
        }
        return result.map { (plan: $0.0, pushed: $0.1) }
    }

    public func schedules() async throws -> [ScheduleRecord] {
        try await database.rows(
            """
            SELECT name, last_slot, next_slot, updated_at, job_name, timing, per_installation, jitter_seconds
            FROM job_schedules ORDER BY name COLLATE "C"
            """,
            as: (String, Double?, Double?, Double, String?, String?, Bool?, Double?).self
        ).map { row in
            let summary = row.4.map { jobName in
                ScheduleSummary(
                    jobName: jobName, timing: row.5 ?? "", perInstallation: row.6 ?? false,
                    jitter: .milliseconds(Int64((row.7 ?? 0) * 1000)))
            }
            return ScheduleRecord(
                name: row.0, summary: summary, handledThrough: row.1.map(Date.init(unixSeconds:)),
                nextSlot: row.2.map(Date.init(unixSeconds:)), updatedAt: Date(unixSeconds: row.3))
        }
    }

    public func latestRuns(of schedule: String) async throws -> [JobRecord] {
        // Slot keys are `name:owner:unix-second`: within one owner the newest slot has the greatest key. The
        // database's collation may order punctuation its own way, so the prefix is matched, and keys compared,
        // byte by byte.
        try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM jobs WHERE slot_key IN (
                SELECT max(slot_key COLLATE "C") FROM jobs WHERE starts_with(slot_key, \(schedule + ":"))
                GROUP BY account_id, livemode)
            ORDER BY slot_key COLLATE "C"
            """,
            as: Row.self
        ).map { try Self.job($0).0 }
    }
}
