import Foundation
import StripeApps
import StripeAppsPostgres
import StripeAppsSQLite
import Testing

/// `migrate --from sqlite:… --to postgres://…`: every table arrives with every value the stores rely on.
@Suite(.enabled(if: PostgresTestDatabase.isEnabled, "needs POSTGRES_URL"))
struct SQLiteToPostgresCopyTests {
    static let now = Date()
    static let a = Tenant(accountID: "acct_a", mode: .test)
    static let c = Tenant(accountID: "acct_c", mode: .live)

    /// A SQLite database with rows in every table: installs and an uninstall, settings, a state, credentials,
    /// the audit records of the uninstall and of a block, and inbox events in every status, one of them leased.
    static func filledSQLite(at path: String) async throws -> SQLiteStorage {
        let storage = try SQLiteStorage(path: path)
        try await storage.migrate()
        _ = try await storage.metadata.value(forKey: "development_app_secret", insertingIfMissing: "absec_dev_copy")
        func change(_ tenant: Tenant, _ action: InstallationChange.Action, _ at: TimeInterval) -> InstallationChange {
            InstallationChange(
                tenant: tenant, action: action, source: .event(type: "account.application.x", id: "evt_\(Int(at))"),
                occurredAt: Date(timeIntervalSince1970: at), recordedAt: now)
        }
        _ = try await storage.installations.apply(change(a, .activate, 100))
        _ = try await storage.installations.apply(change(c, .activate, 100))
        _ = try await storage.installations.apply(change(c, .deactivate, 200))
        _ = try await storage.admin.block(c, reason: "chargebacks", by: AdminAction(actor: "cli", date: now))
        for version in 0..<3 {
            _ = try await storage.settings.updateSettings(for: a, expectedVersion: version) {
                $0["theme"] = .string("dark-\(version)")
                $0["limit"] = .number(Double(version))
            }
        }
        try await storage.installStates.save(
            InstallState(
                stateHash: InstallState.hash(of: "s"), appValue: "u1", mode: .test, createdAt: now,
                expiresAt: now.addingTimeInterval(600)))
        try await storage.installStates.save(
            InstallState(
                stateHash: InstallState.hash(of: "l"), kind: .linkCode, appValue: "u1", tenant: a, userID: "usr_1",
                createdAt: now, expiresAt: now.addingTimeInterval(600)))
        _ = try await storage.credentials.saveCredential(
            [0, 1, 255], named: "oauth", for: a, expectedVersion: 0, at: now)
        _ = try await storage.credentials.saveCredential([2], named: "oauth", for: a, expectedVersion: 1, at: now)
        for index in 0..<5 {
            _ = try await storage.inbox.enqueue(
                InboxEvent(
                    id: "evt_\(index)", type: "invoice.paid", isLiveMode: false, accountID: index == 4 ? nil : "acct_a",
                    created: Int64(index), receivedAt: now, payload: #"{"id":"evt_\#(index)"}"#))
        }
        _ = try await storage.inbox.enqueue(
            InboxEvent(
                id: "evt_blocked", type: "invoice.paid", isLiveMode: true, accountID: "acct_c", created: 9,
                receivedAt: now, status: .blocked, payload: #"{"id":"evt_blocked"}"#))
        let job = try await storage.jobs.push(
            NewJob(name: "sync", tenant: a, parameters: #"{"n":1}"#, priority: 3, maxAttempts: 4, slotKey: "sync:a:1"),
            now: now)
        if let claimed = try await storage.jobs.claim(now: now, limit: 1, lease: .seconds(600), owner: "j1").first {
            _ = try await storage.jobs.fail(claimed, error: "later", retryAt: now.addingTimeInterval(60), now: now)
        }
        #expect(job != nil)
        let claims = try await storage.inbox.claim(now: now, limit: 4, lease: .seconds(600), owner: "w1")
        _ = try await storage.inbox.complete(claims[0])
        _ = try await storage.inbox.fail(claims[1], error: "boom", retryAt: now.addingTimeInterval(60))
        _ = try await storage.inbox.fail(claims[2], error: "gave up", retryAt: nil)
        return storage
    }

    @Test func everyTableIsCopiedAndReadsTheSameOnPostgres() async throws {
        try await withTemporaryDirectory { directory in
            let sqlite = try await Self.filledSQLite(at: "\(directory)/source.sqlite")
            let rows = try await sqlite.exportRows()
            #expect(rows.counts.allSatisfy { $0.rows > 0 }, "\(rows.counts)")
            try await PostgresTestDatabase.withFreshDatabase { location in
                let postgres = try PostgresStorage(configuration: .init(location: location))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await postgres.run() }
                    defer { group.cancelAll() }
                    try await postgres.migrate()
                    try await postgres.importRows(rows, replacing: false)
                    try await Self.expectSameReads(sqlite, postgres)

                    // A second copy into a database with rows is refused and changes nothing; --force replaces.
                    let refused = await #expect(throws: StoreError.self) {
                        try await postgres.importRows(rows, replacing: false)
                    }
                    #expect(refused?.message.contains("not empty") == true)
                    try await postgres.importRows(rows, replacing: true)
                    try await Self.expectSameReads(sqlite, postgres)
                }
            }
        }
    }

    static func expectSameReads(_ sqlite: SQLiteStorage, _ postgres: PostgresStorage) async throws {
        #expect(try await postgres.installations.installations() == sqlite.installations.installations())
        #expect(try await postgres.settings.settings(for: a) == sqlite.settings.settings(for: a))
        #expect(try await postgres.settings.settings(for: a).version == 3)
        #expect(
            try await postgres.credentials.credential(named: "oauth", for: a)
                == sqlite.credentials.credential(named: "oauth", for: a))
        #expect(try await postgres.credentials.auditRecords(for: c) == sqlite.credentials.auditRecords(for: c))
        #expect(try await postgres.credentials.auditRecords(for: c).map(\.action) == ["purged", "admin_blocked"])
        // The block came along: still blocked, by whom, when and why.
        let blocked = try #require(try await postgres.installations.installation(for: c)?.block)
        #expect(blocked.reason == "chargebacks" && blocked.blockedBy == "cli")
        #expect(try await postgres.inbox.events(status: .blocked, limit: 10).map(\.id) == ["evt_blocked"])
        #expect(try await postgres.inbox.events(status: nil, limit: 10) == sqlite.inbox.events(status: nil, limit: 10))
        #expect(try await postgres.jobs.jobs(status: nil, limit: 10) == sqlite.jobs.jobs(status: nil, limit: 10))
        #expect(try await postgres.jobs.jobs(status: .failed, limit: 10).first?.lastError == "later")
        // The slot key came along: the same slot's run is not pushed twice on the copy.
        #expect(try await postgres.jobs.push(NewJob(name: "sync", slotKey: "sync:a:1"), now: now) == nil)
        let state = InstallState.hash(of: "s")
        #expect(
            try await postgres.installStates.state(hash: state, now: now)
                == sqlite.installStates.state(hash: state, now: now))
        #expect(try await postgres.installStates.state(hash: state, now: now)?.appValue == "u1")
        // The link code arrives whole (consumed here; the next copy brings it back).
        let link = try await postgres.installStates.consume(.linkCode, hash: InstallState.hash(of: "l"), now: now)
        #expect(link?.tenant == a && link?.userID == "usr_1" && link?.appValue == "u1")
        #expect(
            try await postgres.metadata.value(forKey: "development_app_secret", insertingIfMissing: "new")
                == "absec_dev_copy")
        // The copied lease still fences: the running event's claim token carried over, so only a newer claim wins.
        // Claimed on the fixture's clock, half a minute on: before evt_1's retry and the running event's lease end,
        // however long the test took.
        let running = try #require(try await postgres.inbox.events(status: .running, limit: 1).first)
        #expect(running.leaseOwner == "w1")
        let later = now.addingTimeInterval(30)
        #expect(
            try await postgres.inbox.claim(now: later, limit: 10, lease: .seconds(60), owner: "w2").map(\.id) == [
                "evt_4"
            ])
    }
}
