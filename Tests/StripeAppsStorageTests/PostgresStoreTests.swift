import Foundation
import StripeApps
import StripeAppsPostgres
import Testing

@Suite struct PostgresMigrationPinTests {
    /// Every shipped migration, pinned: editing, renaming or reordering one fails here. Add a migration instead.
    static let pinned: [(name: String, sha256: String)] = [
        ("0001_initial_schema", "d4c2705ddf769183d34783ef00c50d6d44327f2b49176fa7533b6918fe27a6c2"),
        ("0002_install_tickets_and_link_codes", "c4f9c4eb4febbb51a0c0b529206367c9c34b86110ab3e0640a50e02911b295b0"),
        ("0003_jobs", "e2a6cf9e82bbe76442865e483acdea8bd627beaf47216d13e53f7311969f0d26"),
        ("0004_job_schedules", "e1d66d2570076f96e81ac0a9c910f1b6c778b541b0a6f55a4ac6da9b7fd8a493"),
        ("0005_jobs_stop_requested", "609d1b617767f3669ea1ca9190bd206d197cd953c81977fcb3118cdd401d200c"),
        ("0006_jobs_ready", "ce48d5748d33c752f5d84f42f85377222637624e61c9083da0d9e7cf6416a280"),
        ("0007_job_schedule_details", "71dfda6d3b7874d7492e76fa70136d897475c32cc9b33aecc65902c944dff1c1"),
        ("0008_prunable", "903d45d9e3b4a87dee8cc4ecc0f5425d9e60f288b8d36c31c8165ee25362ce72"),
        ("0009_inbox_ready", "a98aaa83482030c51f9bd6c95b966f874f0b449c2c5182bd661585e51f4f297d"),
        ("0010_inbox_trace_parent", "f7764aee3f81dd83b40b38cdb2ce31de230c04dd0d160063bc2cff6cbf88a058"),
        ("0011_tenant_blocks", "bd847e451adecafdad861328ee0afc7002fc4b1e2ffb125223f32cd2bd101e09"),
    ]

    @Test func shippedMigrationsAreUnchanged() {
        expectPinned(PostgresMigrations.all, Self.pinned)
        // The hash the migrator records and checks is the pinned one too.
        for (migration, pin) in zip(PostgresMigrations.all, Self.pinned) {
            #expect(PostgresMigrations.hash(migration.sql) == pin.sha256)
        }
    }

    @Test func statementsAreSplitAtTheSemicolonsThatEndALine() {
        #expect(
            PostgresMigrations.statements(in: "CREATE TABLE a (x TEXT);\nCREATE INDEX i ON a (x);\n") == [
                "CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a (x)",
            ])
        #expect(PostgresMigrations.lockKey > 0)
    }
}

@Suite(.enabled(if: PostgresTestDatabase.isEnabled, "needs POSTGRES_URL"))
struct PostgresStoreTests {
    /// Runs `body` with `count` storages on one fresh database, each running.
    static func withInstances(
        _ count: Int,
        _ body: ([PostgresStorage], DatabaseURL.Postgres) async throws -> Void
    ) async throws {
        try await PostgresTestDatabase.withFreshDatabase { location in
            let storages = try (0..<count).map { _ in try PostgresStorage(configuration: .init(location: location)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for storage in storages { group.addTask { try await storage.run() } }
                defer { group.cancelAll() }
                try await body(storages, location)
            }
        }
    }

    @Test func instancesStartingTogetherMigrateOnce() async throws {
        try await Self.withInstances(4) { storages, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for storage in storages { group.addTask { try await storage.migrate() } }
                try await group.waitForAll()
            }
            for storage in storages {
                #expect(try await storage.appliedMigrations() == PostgresMigrations.all.map(\.name))
            }
            try await storages[0].migrate()
        }
    }

    @Test func aDatabaseWhoseMigrationDiffersIsRefused() async throws {
        try await Self.withInstances(1) { storages, location in
            try await storages[0].migrate()
            try await PostgresTestDatabase.administer(
                location, "UPDATE stripe_apps_migrations SET sha256 = 'edited' WHERE name = '0001_initial_schema'")
            let error = await #expect(throws: StoreError.self) { try await storages[0].migrate() }
            #expect(error?.message.contains("0001_initial_schema differs") == true)
            try await PostgresTestDatabase.administer(
                location, "INSERT INTO stripe_apps_migrations (name, sha256) VALUES ('9999_from_the_future', 'x')")
        }
    }

    @Test func anUnreachableServerIsUnavailableWithoutDetails() async throws {
        let location = try #require(
            try DatabaseURL("postgres://nobody:secret-password@127.0.0.1:1/none?sslmode=disable").postgres)
        let storage = try PostgresStorage(configuration: .init(location: location, connectTimeout: .seconds(2)))
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await storage.run() }
            defer { group.cancelAll() }
            let health = await #expect(throws: StoreError.self) { try await storage.checkHealth() }
            #expect(health?.code == .unavailable)
            let write = await #expect(throws: StoreError.self) {
                try await storage.inbox.enqueue(
                    InboxEvent(
                        id: "evt_1", type: "t", isLiveMode: false, accountID: nil, created: 1, receivedAt: Date(),
                        payload: "{}"))
            }
            #expect(write?.code == .unavailable)
            #expect(write?.message.contains("secret-password") == false)
        }
    }

    /// With prepared statements off (behind a pooler that does not keep them), deliveries go through the same insert
    /// as a plain statement: stored, duplicate, held, claimed. (The contract suites run it prepared, the default.)
    @Test func withPreparedStatementsOffDeliveriesAreStoredByAPlainStatement() async throws {
        try await PostgresTestDatabase.withFreshDatabase { location in
            let storage = try PostgresStorage(configuration: .init(location: location, preparesStatements: false))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await storage.run() }
                defer { group.cancelAll() }
                try await storage.migrate()
                let blocked = Tenant(accountID: "acct_blocked", mode: .test)
                let now = Date()
                _ = try await storage.installations.apply(
                    InstallationChange(
                        tenant: blocked, action: .activate,
                        source: .event(type: "account.application.authorized", id: "e"),
                        occurredAt: now, recordedAt: now))
                _ = try await storage.admin.block(blocked, reason: nil, by: AdminAction(actor: "test", date: now))
                func event(_ id: String, account: String) -> InboxEvent {
                    InboxEvent(
                        id: id, type: "t", isLiveMode: false, accountID: account, created: 1, receivedAt: now,
                        payload: "{}")
                }
                #expect(try await storage.inbox.enqueue(event("evt_1", account: "acct_1")) == .stored)
                #expect(try await storage.inbox.enqueue(event("evt_1", account: "acct_1")) == .duplicate)
                #expect(try await storage.inbox.enqueue(event("evt_held", account: "acct_blocked")) == .held)
                let arrival = try await storage.inbox.enqueue(
                    event("evt_2", account: "acct_1"), claimingFor: "w", now: now, lease: .seconds(60))
                #expect(arrival.claim?.owner == "w" && arrival.claim?.event.status == .running)
            }
        }
    }

    /// Two instances store and claim through one database: the other instance's worker is woken by NOTIFY.
    @Test func anEventStoredByOneInstanceWakesTheOther() async throws {
        try await Self.withInstances(2) { storages, _ in
            try await storages[0].migrate()
            let (woken, wake) = AsyncStream<Void>.makeStream()
            storages[1].onEventsStoredElsewhere { wake.yield() }
            // The listener may not be listening yet: store until a wake-up arrives.
            let stored = Task {
                var index = 0
                while !Task.isCancelled {
                    _ = try await storages[0].inbox.enqueue(
                        InboxEvent(
                            id: "evt_\(index)", type: "t", isLiveMode: false, accountID: nil, created: 1,
                            receivedAt: Date(), payload: "{}"))
                    index += 1
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            _ = await woken.first { _ in true }
            stored.cancel()
            #expect(
                try await storages[1].inbox.claim(now: Date(), limit: 1, lease: .seconds(60), owner: "b").count == 1)
        }
    }
}
