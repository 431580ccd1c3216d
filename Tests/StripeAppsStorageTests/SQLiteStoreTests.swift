import Crypto
import Foundation
import StripeApps
import StripeAppsSQLite
import Testing

@Suite struct SQLiteStoreTests {
    /// Every shipped migration, pinned: editing, renaming or reordering one fails here. Add a migration instead.
    static let pinned: [(name: String, sha256: String)] = [
        (
            "0001_create_metadata_installations_settings",
            "b0f7dfff18964d07e8a0d9f92d11f0f16d52edce3575ea8320ec2851eec3ccb0"
        ),
        ("0002_create_install_states", "df2a53719fe870ccb2afa94d018327682841c08e47654a1a99e45cc0e567589c"),
        ("0003_create_inbox_events", "565fcf70b1985fbb671f99555efa7d7141433507ae4216ac789694f019f20a34"),
        ("0004_event_processing_and_lifecycle", "c66fb392e92da37fb9bd1ef84187acb778da062b4262424ee1e95400a7f4c4e3"),
        ("0005_tenant_credentials", "e1cb75b411d58e0d1ade7c83703aa2613719783f3a73ac14fa7fd49a3cf2dfc5"),
        ("0006_install_state_mode", "3304f7c535a46a0dee4b64c0b655c3d98389ff5648834b8565cd92d86a3d9928"),
        (
            "0007_inbox_leases_and_installation_changes",
            "7c5975035d485568aed92a3f7979307a45fb2654eb77e3b7af7dcfbfa5d0b3fc"
        ),
        (
            "0008_install_tickets_and_link_codes",
            "881109327b3a7d69c5ac1a5e4b2fe8c786f157778c1c234d7461a1fffaf54622"
        ),
        ("0009_jobs", "ea13cb6b54e66b7d8f3d4dc04359c51f595b18b67356cfcc576a34cbf0663672"),
        ("0010_job_schedules", "a4485807cbc5a73a013d0c94645723f72c2314dd9710a0121acd42bd6c981306"),
        ("0011_jobs_stop_requested", "e35011880f08fa743704b4563b3c74a1321003fc6ea29aba2f7ec7e2bd038763"),
        ("0012_jobs_ready", "ce48d5748d33c752f5d84f42f85377222637624e61c9083da0d9e7cf6416a280"),
        ("0013_job_schedule_details", "249b258c1f3c6271acaa4e8a3483664770fb179f210d79aed7380a1b3bf70912"),
        ("0014_prunable", "903d45d9e3b4a87dee8cc4ecc0f5425d9e60f288b8d36c31c8165ee25362ce72"),
        ("0015_inbox_trace_parent", "f7764aee3f81dd83b40b38cdb2ce31de230c04dd0d160063bc2cff6cbf88a058"),
        ("0016_tenant_blocks", "65b65be40416a0a0ed726713e01664a585000317bc06a9a6f078a446d5aeae4c"),
    ]

    @Test func shippedMigrationsAreUnchanged() {
        expectPinned(SQLiteMigrations.all, Self.pinned)
    }

    @Test func fileIsInWALModeMigratesOnceAndKeepsDataAcrossReopen() async throws {
        try await withTemporaryDirectory { directory in
            let location = try #require(try DatabaseURL("sqlite:\(directory)/db.sqlite").sqlite)
            let tenant = Tenant(accountID: "acct_1", mode: .test)
            do {
                let storage = try SQLiteStorage(location: location)
                try await storage.migrate()
                try await storage.migrate()
                #expect(try await storage.appliedMigrations() == SQLiteMigrations.all.map(\.name))
                #expect(try await storage.journalMode() == "wal")
                _ = try await storage.settings.updateSettings(for: tenant, expectedVersion: 0) {
                    $0["a"] = .string("kept")
                }
            }
            let reopened = try SQLiteStorage(location: location)
            try await reopened.migrate()
            #expect(try await reopened.settings.settings(for: tenant).values["a"] == .string("kept"))
        }
    }

    @Test func unopenableFileIsUnavailable() throws {
        let location = try #require(try DatabaseURL("sqlite:/nonexistent-dir/x/db.sqlite").sqlite)
        let error = #expect(throws: StoreError.self) { try SQLiteStorage(location: location) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("nonexistent") == true)
    }
}

@Suite struct InstallationCacheTests {
    static let tenant = Tenant(accountID: "acct_1", mode: .live)
    static let date = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func aWriteFromAnotherProcessIsSeenAtOnceWithTheCacheOffAndAfterTheLifetimeWithItOn() async throws {
        try await withTemporaryDirectory { directory in
            let location = try #require(try DatabaseURL("sqlite:\(directory)/db.sqlite").sqlite)
            let writer = try SQLiteStorage(location: location)
            try await writer.migrate()
            let uncached = try SQLiteStorage(location: location, installationCacheLifetime: .zero).installations
            let cached = try SQLiteStorage(location: location, installationCacheLifetime: .seconds(3600)).installations
            #expect(try await uncached.installation(for: Self.tenant) == nil)
            #expect(try await cached.installation(for: Self.tenant) == nil)
            func change(_ action: InstallationChange.Action, at seconds: TimeInterval) -> InstallationChange {
                InstallationChange(
                    tenant: Self.tenant, action: action, source: .installCallback,
                    occurredAt: Self.date.addingTimeInterval(seconds), recordedAt: Self.date)
            }
            #expect(try await writer.installations.apply(change(.activate, at: 0)) == .applied)
            #expect(try await uncached.installation(for: Self.tenant)?.status == .active)
            // Documented bound: another process's write is unseen for at most the lifetime.
            #expect(try await cached.installation(for: Self.tenant) == nil)
            // Its own writes are seen at once.
            #expect(try await cached.apply(change(.deactivate, at: 10)) == .applied)
            #expect(try await cached.installation(for: Self.tenant)?.status == .inactive)
        }
    }

    @Test func aReadThatRacedWithAWriteDoesNotPutTheOldValueBack() {
        let cache = InstallationCache(lifetime: .seconds(60))
        let generation = cache.generation
        let installation = Installation(
            tenant: Self.tenant, status: .active, createdAt: Self.date, updatedAt: Self.date)
        cache.written(installation)
        cache.fill(Self.tenant, with: nil, generation: generation)
        #expect(cache.cached(Self.tenant) == .some(installation))
    }

    @Test func capacityBoundsTheCache() {
        let cache = InstallationCache(lifetime: .seconds(60), capacity: 3)
        for index in 0..<10 {
            cache.fill(Tenant(accountID: "acct_\(index)", mode: .test), with: nil, generation: cache.generation)
        }
        let cachedCount = (0..<10).filter { cache.cached(Tenant(accountID: "acct_\($0)", mode: .test)) != nil }.count
        #expect(cachedCount <= 3)
        #expect(cache.cached(Tenant(accountID: "acct_9", mode: .test)) != nil)
    }
}

/// Storage spans are named after the role and method, the same on both backends.
@Suite struct StorageSpanNameTests {
    @Test(arguments: [
        ("StripeAppsSQLite/SQLiteEventInbox.swift", "claim(now:limit:lease:owner:)", "EventInbox.claim"),
        ("StripeAppsPostgres/PostgresEventInbox.swift", "claim(now:limit:lease:owner:)", "EventInbox.claim"),
        ("StripeAppsSQLite/SQLiteInstallStateStore.swift", "consume(_:hash:now:)", "InstallState.consume"),
        ("StripeAppsPostgres/PostgresStorage+Import.swift", "importRows(_:)", "Storage.importRows"),
        ("StripeAppsPostgres/PostgresJobQueue.swift", "push(_:now:)", "JobQueue.push"),
        ("StripeAppsSQLite/SQLiteStatistics.swift", "inboxCounts()", "Statistics.inboxCounts"),
    ])
    func nameDropsTheBackendAndTheStoreSuffix(_ fileID: String, _ function: String, _ expected: String) {
        #expect(StorageSpan.name(fileID: fileID, function: function) == expected)
    }
}
