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
    ]

    @Test func shippedMigrationsAreUnchanged() {
        let actual = SQLiteMigrations.all.map { ($0.name, Self.hash($0.sql)) }
        #expect(actual.count == Self.pinned.count, "pin every new migration here")
        for (index, pin) in Self.pinned.enumerated() {
            #expect(actual[index].0 == pin.name, "migration \(index) was renamed or reordered")
            #expect(actual[index].1 == pin.sha256, "migration \(pin.name) was edited; add a new migration instead")
        }
    }

    static func hash(_ sql: String) -> String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func databaseURLForms() {
        #expect(SQLiteAppStore.Location(databaseURL: "sqlite:stripe-apps.sqlite")?.path == "stripe-apps.sqlite")
        #expect(SQLiteAppStore.Location(databaseURL: "sqlite:///var/db/x.sqlite")?.path == "/var/db/x.sqlite")
        #expect(SQLiteAppStore.Location(databaseURL: "sqlite::memory:")?.path == nil)
        #expect(SQLiteAppStore.Location(databaseURL: "sqlite::memory:") != nil)
        #expect(SQLiteAppStore.Location(databaseURL: "postgres://u@h/db") == nil)
        #expect(SQLiteAppStore.Location(databaseURL: "sqlite:") == nil)
    }

    @Test func fileIsInWALModeMigratesOnceAndKeepsDataAcrossReopen() async throws {
        try await withTemporaryDirectory { directory in
            let location = try #require(SQLiteAppStore.Location(databaseURL: "sqlite:\(directory)/db.sqlite"))
            let tenant = Tenant(accountID: "acct_1", mode: .test)
            do {
                let store = try SQLiteAppStore(location: location)
                try await store.migrate()
                try await store.migrate()
                #expect(try await store.appliedMigrations() == SQLiteMigrations.all.map(\.name))
                #expect(try await store.journalMode() == "wal")
                _ = try await store.updateSettings(for: tenant, expectedVersion: 0) { $0["a"] = .string("kept") }
            }
            let reopened = try SQLiteAppStore(location: location)
            try await reopened.migrate()
            #expect(try await reopened.settings(for: tenant).values["a"] == .string("kept"))
        }
    }

    @Test func unopenableFileIsUnavailable() throws {
        let location = try #require(SQLiteAppStore.Location(databaseURL: "sqlite:/nonexistent-dir/x/db.sqlite"))
        let error = #expect(throws: StoreError.self) { try SQLiteAppStore(location: location) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("nonexistent") == true)
    }
}

@Suite struct InstallationCacheTests {
    static let tenant = Tenant(accountID: "acct_1", mode: .live)
    static let date = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func aWriteFromAnotherProcessIsSeenAtOnceWithTheCacheOffAndAfterTheLifetimeWithItOn() async throws {
        try await withTemporaryDirectory { directory in
            let location = try #require(SQLiteAppStore.Location(databaseURL: "sqlite:\(directory)/db.sqlite"))
            let writer = try SQLiteAppStore(location: location)
            try await writer.migrate()
            let uncached = try SQLiteAppStore(location: location, installationCacheLifetime: .zero)
            let cached = try SQLiteAppStore(location: location, installationCacheLifetime: .seconds(3600))
            #expect(try await uncached.installation(for: Self.tenant) == nil)
            #expect(try await cached.installation(for: Self.tenant) == nil)
            let installation = Installation(
                tenant: Self.tenant, status: .active, createdAt: Self.date, updatedAt: Self.date)
            try await writer.saveInstallation(installation)
            #expect(try await uncached.installation(for: Self.tenant) == installation)
            // Documented bound: another process's write is unseen for at most the lifetime.
            #expect(try await cached.installation(for: Self.tenant) == nil)
            // Its own writes are seen at once.
            var inactive = installation
            inactive.status = .inactive
            try await cached.saveInstallation(inactive)
            #expect(try await cached.installation(for: Self.tenant) == inactive)
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
