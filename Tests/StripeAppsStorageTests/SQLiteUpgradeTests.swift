import Foundation
import GRDB
import StripeApps
import StripeAppsSQLite
import Testing

/// A database file written by the release before leased claiming (migrations 0001–0006, rows written with that
/// release's own statements, commit 8036239) migrates forward with nothing lost.
@Suite struct SQLiteUpgradeTests {
    static let t0 = 1_700_000_000.0

    /// Writes the file as the previous release did.
    static func writePreviousRelease(at path: String) throws {
        var migrator = DatabaseMigrator()
        for migration in SQLiteMigrations.all.prefix(6) {
            migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
        }
        let queue = try DatabaseQueue(path: path)
        try migrator.migrate(queue)
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO app_metadata (key, value) VALUES (?, ?)",
                arguments: ["development_app_secret", "absec_dev_kept"])
            // Installed by an event (last_event_created set), by the old callback (none), and uninstalled.
            for (account, live, status, lastEvent) in [
                ("acct_a", false, "active", 150 as Int64?), ("acct_b", true, "active", nil),
                ("acct_c", false, "inactive", 200),
            ] {
                try db.execute(
                    sql: """
                        INSERT INTO installations (account_id, livemode, status, created_at, updated_at, last_event_created)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [account, live, status, t0, t0 + 5, lastEvent])
            }
            try db.execute(
                sql:
                    "INSERT INTO settings (account_id, livemode, version, document, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: ["acct_a", false, 3, #"{"limit":10,"theme":"dark"}"#, t0])
            try db.execute(
                sql: """
                    INSERT INTO install_states (state_hash, app_value, mode, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [InstallState.hash(of: "s1"), "user-1", "test", t0, 4_000_000_000.0])
            let insertEvent = """
                INSERT INTO inbox_events (id, type, livemode, account_id, created, received_at, status, attempts, payload,
                    next_attempt_at, last_error) VALUES (?, ?, 0, 'acct_a', ?, ?, ?, ?, ?, ?, ?)
                """
            for (id, created, status, attempts, next, error) in [
                ("evt_pending", 10 as Int64, "pending", 0, nil as Double?, nil as String?),
                ("evt_failed", 5, "failed", 2, t0 + 60, "boom"),
                ("evt_dead", 3, "dead", 8, nil, "gave up"),
                ("evt_done", 1, "succeeded", 1, nil, nil),
            ] {
                try db.execute(
                    sql: insertEvent,
                    arguments: [id, "invoice.paid", created, t0, status, attempts, #"{"id":"\#(id)"}"#, next, error])
            }
            try db.execute(
                sql: """
                    INSERT INTO audit_log (account_id, livemode, action, reason, created_at)
                    VALUES ('acct_c', 0, 'purged', 'account.application.deauthorized evt_x', ?)
                    """,
                arguments: [t0])
            try db.execute(
                sql: """
                    INSERT INTO tenant_credentials (account_id, livemode, name, sealed, version, updated_at)
                    VALUES ('acct_a', 0, 'stripe.oauth', ?, 2, ?)
                    """,
                arguments: [Data([7, 8, 9]), t0])
        }
    }

    @Test func everyTableMigratesForwardWithNothingLost() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/previous.sqlite"
            try Self.writePreviousRelease(at: path)
            let storage = try SQLiteStorage(location: try #require(try DatabaseURL("sqlite:\(path)").sqlite))
            try await storage.migrate()
            #expect(try await storage.appliedMigrations() == SQLiteMigrations.all.map(\.name))

            let a = Tenant(accountID: "acct_a", mode: .test)
            let b = Tenant(accountID: "acct_b", mode: .live)
            let c = Tenant(accountID: "acct_c", mode: .test)
            #expect(
                try await storage.metadata.value(forKey: "development_app_secret", insertingIfMissing: "new")
                    == "absec_dev_kept")
            let records = try await storage.installations.installations()
            #expect(records.map(\.tenant) == [a, b, c])
            #expect(records.map(\.status) == [.active, .active, .inactive])
            #expect(records[0].lastChangedAt == Date(timeIntervalSince1970: 150))
            #expect(records[1].lastChangedAt == nil)
            #expect(records.allSatisfy { $0.createdAt == Date(timeIntervalSince1970: Self.t0) })

            let settings = try await storage.settings.settings(for: a)
            #expect(settings.version == 3)
            #expect(settings.values == ["limit": .number(10), "theme": .string("dark")])
            // The state survives the upgrade, but not the unsigned `ref` an older version kept with it.
            let upgraded = try await storage.installStates.consume(hash: InstallState.hash(of: "s1"), now: Date())
            #expect(upgraded != nil && upgraded?.appValue == nil && upgraded?.kind == .state)
            #expect(try await storage.credentials.credential(named: "stripe.oauth", for: a)?.version == 2)
            #expect(
                try await storage.credentials.auditRecords(for: c).map(\.reason) == [
                    "account.application.deauthorized evt_x"
                ])

            let events = try await storage.inbox.events(status: nil, limit: 10)
            #expect(Set(events.map(\.id)) == ["evt_pending", "evt_failed", "evt_dead", "evt_done"])
            #expect(events.first { $0.id == "evt_failed" }?.attempts == 2)
            #expect(events.first { $0.id == "evt_dead" }?.lastError == "gave up")
            // The old rows are claimable under the new rules: pending now, the failed one once its time came.
            let now = Date(timeIntervalSince1970: Self.t0 + 61)
            let claims = try await storage.inbox.claim(now: now, limit: 10, lease: .seconds(60), owner: "w")
            #expect(claims.map(\.id) == ["evt_failed", "evt_pending"])
            #expect(claims.first?.event.attempts == 3)

            // The event time the old release kept still orders changes: an older uninstall is superseded.
            let older = InstallationChange(
                tenant: a, action: .deactivate, source: .event(type: "account.application.deauthorized", id: "evt_old"),
                occurredAt: Date(timeIntervalSince1970: 100), recordedAt: Date())
            #expect(try await storage.installations.apply(older) == .superseded)
            #expect(try await storage.credentials.credential(named: "stripe.oauth", for: a) != nil)
        }
    }
}
