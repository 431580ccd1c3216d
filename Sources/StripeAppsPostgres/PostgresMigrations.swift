import Crypto
import Foundation
import Logging
import PostgresNIO
import StripeApps

/// The PostgreSQL schema, as an ordered list of immutable migrations, and the migrator that applies them.
///
/// A shipped migration is never edited, renamed or reordered (a test pins each name and a hash of its SQL, and
/// the migrator refuses a database whose recorded hash differs); to change the schema, append one. Times are
/// Unix seconds in `double precision`, as in the SQLite schema, so a copy between the two keeps every value.
package enum PostgresMigrations {
    /// Every migration in order: a name and plain SQL, never derived from model types.
    package static let all: [(name: String, sql: String)] = [
        (
            "0001_initial_schema",
            """
            CREATE TABLE app_metadata (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            CREATE TABLE installations (
                account_id TEXT NOT NULL,
                livemode BOOLEAN NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                last_changed_at DOUBLE PRECISION,
                last_changed_by TEXT,
                PRIMARY KEY (account_id, livemode)
            );
            CREATE TABLE settings (
                account_id TEXT NOT NULL,
                livemode BOOLEAN NOT NULL,
                version BIGINT NOT NULL,
                document TEXT NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (account_id, livemode)
            );
            CREATE TABLE install_states (
                state_hash TEXT PRIMARY KEY,
                app_value TEXT,
                mode TEXT CHECK (mode IN ('live', 'test')),
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL
            );
            CREATE INDEX install_states_expires_at ON install_states (expires_at);
            CREATE TABLE inbox_events (
                id TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                livemode BOOLEAN NOT NULL,
                account_id TEXT,
                created BIGINT NOT NULL,
                received_at DOUBLE PRECISION NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead')),
                attempts INTEGER NOT NULL DEFAULT 0,
                payload TEXT NOT NULL,
                next_attempt_at DOUBLE PRECISION,
                last_error TEXT,
                lease_owner TEXT,
                lease_expires_at DOUBLE PRECISION,
                lease_token BIGINT NOT NULL DEFAULT 0
            );
            CREATE INDEX inbox_events_claimable ON inbox_events (created, received_at, id)
                WHERE status IN ('pending', 'failed', 'running');
            CREATE INDEX inbox_events_listing ON inbox_events (received_at DESC, id DESC);
            CREATE INDEX inbox_events_status_listing ON inbox_events (status, received_at DESC, id DESC);
            CREATE TABLE audit_log (
                id BIGSERIAL PRIMARY KEY,
                account_id TEXT NOT NULL,
                livemode BOOLEAN NOT NULL,
                action TEXT NOT NULL,
                reason TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                UNIQUE (account_id, livemode, action, reason)
            );
            CREATE TABLE tenant_credentials (
                account_id TEXT NOT NULL,
                livemode BOOLEAN NOT NULL,
                name TEXT NOT NULL,
                sealed BYTEA NOT NULL,
                version BIGINT NOT NULL CHECK (version > 0),
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (account_id, livemode, name)
            );
            """
        ),
        (
            // Install tickets and link codes live beside the CSRF states; an unsigned `ref` kept by an older
            // version is dropped, since only a ticket may say whose install it is.
            "0002_install_tickets_and_link_codes",
            """
            ALTER TABLE install_states ADD COLUMN kind TEXT NOT NULL DEFAULT 'state'
                CHECK (kind IN ('state', 'ticket', 'link'));
            ALTER TABLE install_states ADD COLUMN account_id TEXT;
            ALTER TABLE install_states ADD COLUMN livemode BOOLEAN;
            ALTER TABLE install_states ADD COLUMN user_id TEXT;
            UPDATE install_states SET app_value = NULL;
            """
        ),
        (
            // The job queue: the inbox's lease machinery (owner, expiry, fencing token), plus priorities, delayed
            // and retried runs (`run_at`), cancellation, progress, and a unique key per schedule slot's run.
            "0003_jobs",
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                account_id TEXT,
                livemode BOOLEAN,
                parameters TEXT NOT NULL,
                priority INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL
                    CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
                run_at DOUBLE PRECISION NOT NULL,
                queued_at DOUBLE PRECISION NOT NULL,
                finished_at DOUBLE PRECISION,
                last_error TEXT,
                lease_owner TEXT,
                lease_expires_at DOUBLE PRECISION,
                lease_token BIGINT NOT NULL DEFAULT 0,
                cancel_requested BOOLEAN NOT NULL DEFAULT false,
                progress DOUBLE PRECISION,
                progress_message TEXT,
                slot_key TEXT UNIQUE
            );
            CREATE INDEX jobs_claimable ON jobs (priority DESC, run_at, id)
                WHERE status IN ('pending', 'failed', 'running');
            CREATE INDEX jobs_tenant ON jobs (account_id, livemode) WHERE status IN ('pending', 'failed', 'running');
            CREATE INDEX jobs_queued_at ON jobs (queued_at);
            """
        ),
        (
            // Where each schedule is in its slots: the last slot handled, advanced (row locked) in the transaction
            // that pushes the slots' jobs.
            "0004_job_schedules",
            """
            CREATE TABLE job_schedules (
                name TEXT PRIMARY KEY,
                last_slot DOUBLE PRECISION,
                updated_at DOUBLE PRECISION NOT NULL
            );
            """
        ),
        (
            // Every claim first ends the running jobs asked to stop whose worker died: an index of just those keeps
            // that check from walking the whole backlog.
            "0005_jobs_stop_requested",
            """
            CREATE INDEX jobs_stop_requested ON jobs (lease_expires_at) WHERE status = 'running' AND cancel_requested;
            """
        ),
        (
            // Claims read due jobs through an index of only pending and failed rows, and expired leases through
            // one of only running rows. The index they replace also held the running jobs; with each claim and
            // each outcome leaving a dead entry at its head, a claim took 4 ms by the end of a 20,000-job backlog.
            "0006_jobs_ready",
            """
            DROP INDEX jobs_claimable;
            CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE status IN ('pending', 'failed');
            CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'running';
            """
        ),
        (
            // What each schedule is and its next slot, written by every advance, so that `jobs list` shows the
            // schedules of the running instances without their code.
            "0007_job_schedule_details",
            """
            ALTER TABLE job_schedules ADD COLUMN job_name TEXT, ADD COLUMN timing TEXT,
                ADD COLUMN per_installation BOOLEAN, ADD COLUMN jitter_seconds DOUBLE PRECISION,
                ADD COLUMN next_slot DOUBLE PRECISION;
            """
        ),
        (
            // The pruning jobs read only what they may prune: finished jobs by the time they finished, and
            // finished events that still have a payload by arrival (the pruned ones leave the index).
            "0008_prunable",
            """
            CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN ('succeeded', 'cancelled', 'dead');
            CREATE INDEX inbox_events_prunable ON inbox_events (received_at, id)
                WHERE status IN ('succeeded', 'dead') AND payload <> '';
            """
        ),
        (
            // The inbox's claims, as the jobs' (0006): due events through an index of only pending and failed
            // rows, expired leases through one of only running rows. With running rows in the claim index, the
            // worker alone managed 1,239 claims+completions/s on this machine's disk.
            "0009_inbox_ready",
            """
            DROP INDEX inbox_events_claimable;
            CREATE INDEX inbox_events_ready ON inbox_events (created, received_at, id) WHERE status IN ('pending', 'failed');
            CREATE INDEX inbox_events_leased ON inbox_events (lease_expires_at) WHERE status = 'running';
            """
        ),
        (
            "0010_inbox_trace_parent",
            """
            ALTER TABLE inbox_events ADD COLUMN trace_parent TEXT;
            """
        ),
        (
            // Operators block tenants: the block lives on the installation record, which signed UI calls and
            // webhooks read anyway. A blocked tenant's events are finished without running (`blocked`), and pruned
            // with the other finished ones. Every existing row passed the stricter status check, so the wider one
            // is added without scanning the table (NOT VALID still checks every row written from now on).
            "0011_tenant_blocks",
            """
            ALTER TABLE installations ADD COLUMN blocked_at DOUBLE PRECISION;
            ALTER TABLE installations ADD COLUMN blocked_by TEXT;
            ALTER TABLE installations ADD COLUMN block_reason TEXT;
            ALTER TABLE inbox_events DROP CONSTRAINT inbox_events_status_check;
            ALTER TABLE inbox_events ADD CONSTRAINT inbox_events_status_check
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead', 'blocked')) NOT VALID;
            DROP INDEX inbox_events_prunable;
            CREATE INDEX inbox_events_prunable ON inbox_events (received_at, id)
                WHERE status IN ('succeeded', 'dead', 'blocked') AND payload <> '';
            """
        ),
    ]

    /// The key of the transaction-scoped advisory lock every migrating instance takes first: the first 63 bits
    /// of SHA-256("stripe-apps-backend migrations").
    package static let lockKey: Int64 = {
        let digest = Array(SHA256.hash(data: Array("stripe-apps-backend migrations".utf8)))
        return Int64(bitPattern: digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } >> 1)
    }()

    /// The SHA-256 of a migration's SQL, as lowercase hex.
    package static func hash(_ sql: String) -> String {
        SHA256.hash(data: Array(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Applies every migration not applied yet, in one transaction under the advisory lock, so instances that
    /// start together migrate once and the others find the work done.
    ///
    /// - Throws: ``StripeApps/StoreError/Code/unavailable`` when the database is unreachable, or when it records a
    ///   migration this version does not know or one whose SQL differs (a downgrade, or an edited migration).
    static func migrate(_ database: PostgresDatabase) async throws {
        let logger = database.logger
        try await database.transaction(deadline: false) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS stripe_apps_migrations (
                    name TEXT PRIMARY KEY,
                    sha256 TEXT NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            // Read after taking the lock: another instance may have just applied them.
            let applied = try await connection.rows(
                "SELECT name, sha256 FROM stripe_apps_migrations ORDER BY name", as: (String, String).self,
                logger: logger)
            let known = Dictionary(uniqueKeysWithValues: all.map { ($0.name, hash($0.sql)) })
            for (name, recorded) in applied {
                guard let expected = known[name] else {
                    throw StoreError(
                        .unavailable,
                        message:
                            "The database has migration \(name), which this version does not know (a newer release migrated it)."
                    )
                }
                guard expected == recorded else {
                    throw StoreError(
                        .unavailable, message: "Migration \(name) differs from the one applied to the database.")
                }
            }
            let done = Set(applied.map(\.0))
            for migration in all where !done.contains(migration.name) {
                // The extended protocol runs one statement per query: split on the `;` that ends a line.
                for statement in statements(in: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO stripe_apps_migrations (name, sha256) VALUES (\(migration.name), \(hash(migration.sql)))",
                    logger: logger)
                logger.info("applied migration", metadata: ["migration": .string(migration.name)])
            }
        }
    }

    /// The statements of a migration: its SQL cut after each `;` that ends a line.
    package static func statements(in sql: String) -> [String] {
        sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty }
    }

    /// The names of the applied migrations, in order.
    static func applied(_ database: PostgresDatabase) async throws -> [String] {
        let exists = try await database.rows(
            "SELECT to_regclass('stripe_apps_migrations') IS NOT NULL", as: Bool.self)
        guard exists.first == true else { return [] }
        return try await database.rows("SELECT name FROM stripe_apps_migrations ORDER BY name", as: String.self)
    }
}
