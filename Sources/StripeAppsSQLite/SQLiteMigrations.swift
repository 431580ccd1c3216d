import GRDB

/// The SQLite schema, as an ordered list of immutable migrations.
///
/// A shipped migration is never edited, renamed or reordered (a test pins each name and a hash of its SQL);
/// to change the schema, append a migration. Each runs in its own transaction and is recorded by GRDB's
/// `DatabaseMigrator` in `grdb_migrations`.
package enum SQLiteMigrations {
    /// Every migration in order: a name and plain SQL, never derived from model types.
    package static let all: [(name: String, sql: String)] = [
        (
            "0001_create_metadata_installations_settings",
            """
            CREATE TABLE app_metadata (
                key TEXT PRIMARY KEY NOT NULL,
                value TEXT NOT NULL
            ) STRICT;
            CREATE TABLE installations (
                account_id TEXT NOT NULL,
                livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
                status TEXT NOT NULL,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                PRIMARY KEY (account_id, livemode)
            ) STRICT;
            CREATE TABLE settings (
                account_id TEXT NOT NULL,
                livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
                version INTEGER NOT NULL,
                document TEXT NOT NULL,
                updated_at REAL NOT NULL,
                PRIMARY KEY (account_id, livemode)
            ) STRICT;
            """
        ),
        (
            "0002_create_install_states",
            """
            CREATE TABLE install_states (
                state_hash TEXT PRIMARY KEY NOT NULL,
                app_value TEXT,
                created_at REAL NOT NULL,
                expires_at REAL NOT NULL
            ) STRICT;
            CREATE INDEX install_states_expires_at ON install_states (expires_at);
            """
        ),
        (
            "0003_create_inbox_events",
            """
            CREATE TABLE inbox_events (
                id TEXT PRIMARY KEY NOT NULL,
                type TEXT NOT NULL,
                livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
                account_id TEXT,
                created INTEGER NOT NULL,
                received_at REAL NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                payload TEXT NOT NULL
            ) STRICT;
            CREATE INDEX inbox_events_status_received ON inbox_events (status, received_at);
            """
        ),
        (
            "0004_event_processing_and_lifecycle",
            """
            ALTER TABLE inbox_events ADD COLUMN next_attempt_at REAL;
            ALTER TABLE inbox_events ADD COLUMN last_error TEXT;
            CREATE INDEX inbox_events_due ON inbox_events (status, next_attempt_at);
            ALTER TABLE installations ADD COLUMN last_event_created INTEGER;
            CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                account_id TEXT NOT NULL,
                livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
                action TEXT NOT NULL,
                reason TEXT NOT NULL,
                created_at REAL NOT NULL
            ) STRICT;
            CREATE UNIQUE INDEX audit_log_once ON audit_log (account_id, livemode, action, reason);
            """
        ),
        (
            "0005_tenant_credentials",
            """
            CREATE TABLE tenant_credentials (
                account_id TEXT NOT NULL,
                livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
                name TEXT NOT NULL,
                sealed BLOB NOT NULL,
                version INTEGER NOT NULL CHECK (version > 0),
                updated_at REAL NOT NULL,
                PRIMARY KEY (account_id, livemode, name)
            ) STRICT, WITHOUT ROWID;
            """
        ),
        (
            "0006_install_state_mode",
            """
            ALTER TABLE install_states ADD COLUMN mode TEXT CHECK (mode IN ('live', 'test'));
            """
        ),
        (
            // Leased claiming of inbox events, and one ordering rule for every installation change (the
            // callback's too). `last_event_created` is no longer written: its values move to `last_changed_at`.
            "0007_inbox_leases_and_installation_changes",
            """
            ALTER TABLE inbox_events ADD COLUMN lease_owner TEXT;
            ALTER TABLE inbox_events ADD COLUMN lease_expires_at REAL;
            ALTER TABLE inbox_events ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX inbox_events_claimable ON inbox_events (created, received_at, id)
                WHERE status IN ('pending', 'failed', 'running');
            ALTER TABLE installations ADD COLUMN last_changed_at REAL;
            ALTER TABLE installations ADD COLUMN last_changed_by TEXT;
            UPDATE installations SET last_changed_at = last_event_created, last_changed_by = 'event'
                WHERE last_event_created IS NOT NULL;
            """
        ),
        (
            // Install tickets and link codes live beside the CSRF states. States stored before carry an unsigned
            // `ref` from the URL in `app_value`: it is dropped, since only a ticket may say whose install it is.
            "0008_install_tickets_and_link_codes",
            """
            ALTER TABLE install_states ADD COLUMN kind TEXT NOT NULL DEFAULT 'state'
                CHECK (kind IN ('state', 'ticket', 'link'));
            ALTER TABLE install_states ADD COLUMN account_id TEXT;
            ALTER TABLE install_states ADD COLUMN livemode INTEGER CHECK (livemode IN (0, 1));
            ALTER TABLE install_states ADD COLUMN user_id TEXT;
            UPDATE install_states SET app_value = NULL;
            """
        ),
        (
            // The job queue: the inbox's lease machinery (owner, expiry, fencing token), plus priorities, delayed
            // and retried runs (`run_at`), cancellation, progress, and a unique key per schedule slot's run.
            "0009_jobs",
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                account_id TEXT,
                livemode INTEGER CHECK (livemode IN (0, 1)),
                parameters TEXT NOT NULL,
                priority INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL
                    CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
                run_at REAL NOT NULL,
                queued_at REAL NOT NULL,
                finished_at REAL,
                last_error TEXT,
                lease_owner TEXT,
                lease_expires_at REAL,
                lease_token INTEGER NOT NULL DEFAULT 0,
                cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
                progress REAL,
                progress_message TEXT,
                slot_key TEXT UNIQUE
            ) STRICT;
            CREATE INDEX jobs_claimable ON jobs (priority DESC, run_at, id)
                WHERE status IN ('pending', 'failed', 'running');
            CREATE INDEX jobs_tenant ON jobs (account_id, livemode) WHERE status IN ('pending', 'failed', 'running');
            CREATE INDEX jobs_queued_at ON jobs (queued_at);
            """
        ),
        (
            // Where each schedule is in its slots: the last slot handled, advanced in the transaction that pushes
            // the slots' jobs.
            "0010_job_schedules",
            """
            CREATE TABLE job_schedules (
                name TEXT PRIMARY KEY NOT NULL,
                last_slot REAL,
                updated_at REAL NOT NULL
            ) STRICT;
            """
        ),
        (
            // Every claim first ends the running jobs asked to stop whose worker died: an index of just those keeps
            // that check from walking the whole backlog.
            "0011_jobs_stop_requested",
            """
            CREATE INDEX jobs_stop_requested ON jobs (lease_expires_at) WHERE status = 'running' AND cancel_requested = 1;
            """
        ),
        (
            // Claims read due jobs through an index of only pending and failed rows and expired leases through one
            // of only running rows, as on PostgreSQL, where the index they replace (which also held the running
            // jobs) made every claim walk further.
            "0012_jobs_ready",
            """
            DROP INDEX jobs_claimable;
            CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE status IN ('pending', 'failed');
            CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'running';
            """
        ),
        (
            // What each schedule is and its next slot, written by every advance, so that `jobs list` shows the
            // schedules of the running instances without their code.
            "0013_job_schedule_details",
            """
            ALTER TABLE job_schedules ADD COLUMN job_name TEXT;
            ALTER TABLE job_schedules ADD COLUMN timing TEXT;
            ALTER TABLE job_schedules ADD COLUMN per_installation INTEGER CHECK (per_installation IN (0, 1));
            ALTER TABLE job_schedules ADD COLUMN jitter_seconds REAL;
            ALTER TABLE job_schedules ADD COLUMN next_slot REAL;
            """
        ),
        (
            // The pruning jobs read only what they may prune: finished jobs by the time they finished, and
            // finished events that still have a payload by arrival (the pruned ones leave the index).
            "0014_prunable",
            """
            CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN ('succeeded', 'cancelled', 'dead');
            CREATE INDEX inbox_events_prunable ON inbox_events (received_at, id)
                WHERE status IN ('succeeded', 'dead') AND payload <> '';
            """
        ),
        (
            "0015_inbox_trace_parent",
            """
            ALTER TABLE inbox_events ADD COLUMN trace_parent TEXT;
            """
        ),
        (
            // Operators block tenants: the block lives on the installation record, which signed UI calls and
            // webhooks read anyway (through the installation cache). A blocked tenant's events are finished without
            // running (`blocked`), and pruned with the other finished ones.
            "0016_tenant_blocks",
            """
            ALTER TABLE installations ADD COLUMN blocked_at REAL;
            ALTER TABLE installations ADD COLUMN blocked_by TEXT;
            ALTER TABLE installations ADD COLUMN block_reason TEXT;
            DROP INDEX inbox_events_prunable;
            CREATE INDEX inbox_events_prunable ON inbox_events (received_at, id)
                WHERE status IN ('succeeded', 'dead', 'blocked') AND payload <> '';
            """
        ),
    ]

    /// A GRDB migrator with every migration registered.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in all {
            migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
        }
        return migrator
    }
}
