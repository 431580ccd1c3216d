public import Foundation
import GRDB
public import StripeApps

/// The job queue in the `jobs` table. Every write is one transaction of the file's single writer; claims walk the
/// partial indexes `jobs_leased` (running rows, by lease end) and `jobs_ready` (pending and failed, in claim order).
public struct SQLiteJobQueue: JobQueue {
    let database: SQLiteDatabase

    static let columns = """
        id, name, account_id, livemode, parameters, priority, status, attempts, max_attempts, run_at, queued_at,
        finished_at, last_error, lease_owner, lease_expires_at, cancel_requested, progress, progress_message,
        slot_key, lease_token
        """

    public func push(_ job: NewJob, now: Date) async throws -> JobRecord? {
        let record = JobRecord(job, queuedAt: now)
        return try await database.write { db in try Self.insert(record, in: db) ? record : nil }
    }

    /// Stores a new pending job unless its slot key is taken; returns whether it was stored.
    static func insert(_ record: JobRecord, in db: Database) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO jobs (id, name, account_id, livemode, parameters, priority, status, attempts,
                    max_attempts, run_at, queued_at, slot_key)
                VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """
        ).execute(arguments: [
            record.id, record.name, record.tenant?.accountID, record.tenant?.mode.isLive, record.parameters,
            record.priority, record.maxAttempts, record.runAt.timeIntervalSince1970,
            record.queuedAt.timeIntervalSince1970, record.slotKey,
        ])
        return db.changesCount > 0
    }

    public func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedJob] {
        let seconds = now.timeIntervalSince1970
        return try await database.write { db in
            try Self.cancelAbandonedStops(at: seconds, in: db)
            // Expired leases first, then due jobs in claim order, each through its own partial index.
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = ?1,
                            lease_expires_at = ?2, lease_token = lease_token + 1
                        WHERE id IN (
                            SELECT id FROM (
                                SELECT id FROM jobs INDEXED BY jobs_leased
                                WHERE status = 'running' AND cancel_requested = 0 AND lease_expires_at <= ?3
                                ORDER BY lease_expires_at LIMIT ?4)
                            UNION ALL
                            SELECT id FROM (
                                SELECT id FROM jobs INDEXED BY jobs_ready
                                WHERE status IN ('pending', 'failed') AND run_at <= ?3
                                ORDER BY priority DESC, run_at, id LIMIT ?4)
                            LIMIT ?4)
                        RETURNING \(Self.columns), \(SQLiteDatabase.tenantIsBlocked("jobs"))
                        """),
                arguments: [owner, seconds + lease.timeInterval, seconds, max(0, limit)])
            return try rows.map {
                ClaimedJob(job: try Self.job($0), token: $0[19], owner: owner, tenantBlockedWhenClaimed: $0[20])
            }
            .sorted { JobRecord.claimOrder($0.job, $1.job) }
        }
    }

    public func complete(_ claim: ClaimedJob, now: Date) async throws -> Bool {
        try await database.traced { try await database.jobSettlements.submit(.completed(claim, now: now)) }
    }

    public func fail(_ claim: ClaimedJob, error: String, retryAt: Date?, now: Date) async throws -> Bool {
        try await database.traced {
            try await database.jobSettlements.submit(.failed(claim, error: error, retryAt: retryAt, now: now))
        }
    }

    public func stopped(_ claim: ClaimedJob, now: Date) async throws -> Bool {
        try await database.traced { try await database.jobSettlements.submit(.stopped(claim, now: now)) }
    }

    /// Writes a batch of outcomes in one transaction; each output says whether that claim still held its lease.
    static func settle(_ settlements: [JobSettlement], into writer: any DatabaseWriter) async throws -> [Bool] {
        try await writer.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE jobs SET status = ?, run_at = COALESCE(?, run_at), finished_at = ?,
                        last_error = COALESCE(?, last_error), lease_owner = NULL, lease_expires_at = NULL,
                        cancel_requested = 0
                    WHERE id = ? AND lease_token = ? AND status = 'running'
                    """)
            return try settlements.map { settlement in
                try statement.execute(arguments: [
                    settlement.status.description, settlement.runAt, settlement.finishedAt, settlement.error,
                    settlement.id, settlement.token,
                ])
                return db.changesCount > 0
            }
        }
    }

    public func heartbeat(_ claims: [ClaimedJob], now: Date, lease: Duration) async throws -> [String: Bool] {
        guard !claims.isEmpty else { return [:] }
        let expiry = now.timeIntervalSince1970 + lease.timeInterval
        return try await database.write { db in
            var held: [String: Bool] = [:]
            for claim in claims {
                if let row = try Row.fetchOne(
                    db,
                    sql: """
                        UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_token = ? AND status = 'running'
                        RETURNING cancel_requested
                        """,
                    arguments: [expiry, claim.id, claim.token])
                {
                    held[claim.id] = row["cancel_requested"] as Bool
                }
            }
            return held
        }
    }

    public func recordProgress(_ claim: ClaimedJob, fraction: Double?, message: String?) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET progress = ?, progress_message = ?
                    WHERE id = ? AND lease_token = ? AND status = 'running'
                    """,
                arguments: [
                    JobRecord.storedProgress(fraction), JobRecord.storedProgressMessage(message), claim.id,
                    claim.token,
                ])
            return db.changesCount > 0
        }
    }

    public func cancel(id: String, now: Date) async throws -> JobRecord? {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET
                        status = CASE WHEN status IN ('pending', 'failed') THEN 'cancelled' ELSE status END,
                        finished_at = CASE WHEN status IN ('pending', 'failed') THEN ? ELSE finished_at END,
                        cancel_requested = CASE WHEN status = 'running' THEN 1 ELSE cancel_requested END
                    WHERE id = ?
                    """,
                arguments: [now.timeIntervalSince1970, id])
            return try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM jobs WHERE id = ?", arguments: [id])
                .map(Self.job)
        }
    }

    public func replay(id: String, now: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'pending', attempts = 0, run_at = ?, finished_at = NULL,
                        cancel_requested = 0, lease_owner = NULL, lease_expires_at = NULL,
                        lease_token = lease_token + 1
                    WHERE id = ? AND status IN ('dead', 'cancelled')
                    """,
                arguments: [now.timeIntervalSince1970, id])
            return db.changesCount > 0
        }
    }

    public func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await database.write { db in
            try db.execute(
                sql: """
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs INDEXED BY jobs_finished
                        WHERE status IN ('succeeded', 'cancelled', 'dead') AND finished_at < ?
                        ORDER BY finished_at LIMIT ?)
                    """,
                arguments: [cutoff.timeIntervalSince1970, max(0, limit)])
            return db.changesCount
        }
    }

    public func job(id: String) async throws -> JobRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM jobs WHERE id = ?", arguments: [id]).map(Self.job)
        }
    }

    public func jobs(status: JobRecord.Status?, limit: Int) async throws -> [JobRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns) FROM jobs WHERE ?1 IS NULL OR status = ?1
                    ORDER BY queued_at DESC, id DESC LIMIT ?2
                    """,
                arguments: [status?.description, max(0, limit)]
            ).map(Self.job)
        }
    }

    /// Running jobs asked to stop whose worker's lease ran out are cancelled: nobody will report them.
    static func cancelAbandonedStops(at seconds: Double, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE jobs SET status = 'cancelled', finished_at = ?1, lease_owner = NULL, lease_expires_at = NULL
                WHERE status = 'running' AND cancel_requested = 1
                    AND (lease_expires_at IS NULL OR lease_expires_at <= ?1)
                """
        ).execute(arguments: [seconds])
    }

    /// The uninstall of a tenant, inside the transaction that deactivates it: pending and failed jobs are
    /// cancelled, running ones asked to stop.
    static func cancelJobs(of tenant: Tenant, at seconds: Double, in db: Database) throws {
        try db.execute(
            sql: """
                UPDATE jobs SET
                    status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
                    finished_at = CASE WHEN status = 'running' THEN finished_at ELSE ?3 END,
                    cancel_requested = CASE WHEN status = 'running' THEN 1 ELSE cancel_requested END
                WHERE account_id = ?1 AND livemode = ?2 AND status IN ('pending', 'failed', 'running')
                """,
            arguments: [tenant.accountID, tenant.mode.isLive, seconds])
    }

    static func job(_ row: Row) throws -> JobRecord {
        // By position, in the order of ``columns``: a lookup by name lowercases each name, a few percent of a
        // claim's time.
        guard let status = JobRecord.Status(name: row[6]) else { throw StoreError.corruptRow("jobs") }
        let accountID: String? = row[2]
        let livemode: Bool? = row[3]
        return JobRecord(
            id: row[0], name: row[1],
            tenant: accountID.flatMap { account in livemode.map { Tenant(accountID: account, mode: $0 ? .live : .test) }
            },
            parameters: row[4], priority: row[5], status: status, attempts: row[7], maxAttempts: row[8],
            runAt: Date(unixSeconds: row[9]), queuedAt: Date(unixSeconds: row[10]),
            finishedAt: (row[11] as Double?).map(Date.init(unixSeconds:)), lastError: row[12], leaseOwner: row[13],
            leaseExpiresAt: (row[14] as Double?).map(Date.init(unixSeconds:)), cancelRequested: row[15],
            progress: row[16], progressMessage: row[17], slotKey: row[18])
    }
}

extension SQLiteJobQueue: ScheduleStore {
    public func advance(
        schedule name: String,
        now: Date,
        withInstallations: Bool,
        plan: @Sendable (ScheduleCursor) -> SchedulePlan
    ) async throws -> (plan: SchedulePlan, pushed: Int)? {
        // The file's single writer serializes advances: one transaction reads, pushes and moves the slot.
        try await database.write { db in
            try db.execute(
                sql:
                    "INSERT INTO job_schedules (name, last_slot, updated_at) VALUES (?, NULL, ?) ON CONFLICT DO NOTHING",
                arguments: [name, now.timeIntervalSince1970])
            let lastSlot = try Double.fetchOne(
                db, sql: "SELECT last_slot FROM job_schedules WHERE name = ?", arguments: [name])
            let tenants =
                withInstallations
                ? try Row.fetchAll(
                    db,
                    sql: """
                        SELECT account_id, livemode FROM installations WHERE status = 'active' AND blocked_at IS NULL
                        ORDER BY account_id, livemode
                        """
                ).map { Tenant(accountID: $0["account_id"], mode: ($0["livemode"] as Bool) ? .live : .test) } : []
            let decided = plan(
                ScheduleCursor(lastSlot: lastSlot.map(Date.init(unixSeconds:)), now: now, tenants: tenants))
            var pushed = 0
            for job in decided.jobs where try Self.insert(JobRecord(job, queuedAt: now), in: db) { pushed += 1 }
            let summary = decided.summary
            try db.execute(
                sql: """
                    UPDATE job_schedules SET last_slot = ?, next_slot = ?, updated_at = ?,
                        job_name = COALESCE(?, job_name), timing = COALESCE(?, timing),
                        per_installation = COALESCE(?, per_installation), jitter_seconds = COALESCE(?, jitter_seconds)
                    WHERE name = ?
                    """,
                arguments: [
                    decided.resumeAfter.timeIntervalSince1970, decided.nextSlot?.timeIntervalSince1970,
                    now.timeIntervalSince1970, summary?.jobName, summary?.timing, summary?.perInstallation,
                    summary?.jitter.timeInterval, name,
                ])
            return (decided, pushed)
        }
    }

    public func schedules() async throws -> [ScheduleRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT name, last_slot, next_slot, updated_at, job_name, timing, per_installation, jitter_seconds
                    FROM job_schedules ORDER BY name
                    """
            ).map { row in
                let summary: ScheduleSummary? = (row["job_name"] as String?).map { jobName in
                    ScheduleSummary(
                        jobName: jobName, timing: row["timing"] ?? "",
                        perInstallation: row["per_installation"] ?? false,
                        jitter: .milliseconds(Int64(((row["jitter_seconds"] as Double?) ?? 0) * 1000)))
                }
                return ScheduleRecord(
                    name: row["name"], summary: summary,
                    handledThrough: (row["last_slot"] as Double?).map(Date.init(unixSeconds:)),
                    nextSlot: (row["next_slot"] as Double?).map(Date.init(unixSeconds:)),
                    updatedAt: Date(unixSeconds: row["updated_at"]))
            }
        }
    }

    public func latestRuns(of schedule: String) async throws -> [JobRecord] {
        // Slot keys are `name:owner:unix-second`: within one owner the newest slot has the greatest key.
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns) FROM jobs WHERE slot_key IN (
                        SELECT max(slot_key) FROM jobs WHERE slot_key >= ?1 AND slot_key < ?2
                        GROUP BY account_id, livemode)
                    ORDER BY slot_key
                    """,
                arguments: [schedule + ":", schedule + ";"]
            ).map(Self.job)
        }
    }
}
