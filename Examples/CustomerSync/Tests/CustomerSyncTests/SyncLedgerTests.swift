import CustomerSync
import Foundation
import StripeApps
import Testing

/// Both ledgers keep the same promises: the newest change of a customer wins, tenants are apart, a purge deletes
/// one tenant's records only, the first install is kept.
@Suite struct SyncLedgerTests {
    enum Kind: String, CaseIterable, Sendable {
        case memory, sqlite
    }

    static func ledger(_ kind: Kind) throws -> any SyncLedger {
        switch kind {
        case .memory: InMemorySyncLedger()
        case .sqlite:
            try SQLiteSyncLedger(
                path: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "ledger-\(UUID().uuidString).sqlite"
                )
                .path)
        }
    }

    static let a = Tenant(accountID: "acct_ledgerA", mode: .test)
    static let b = Tenant(accountID: "acct_ledgerA", mode: .live)

    static func record(_ id: String, at seconds: TimeInterval, deleted: Bool = false) -> SyncRecord {
        SyncRecord(
            customerID: id, changedAt: Date(timeIntervalSince1970: seconds), isDeleted: deleted,
            syncedAt: Date(timeIntervalSince1970: 1_000))
    }

    @Test(arguments: Kind.allCases) func theNewestChangeWinsPerTenant(_ kind: Kind) async throws {
        let ledger = try Self.ledger(kind)
        #expect(try await ledger.store(Self.record("cus_1", at: 200), for: Self.a))
        #expect(try await !ledger.store(Self.record("cus_1", at: 100), for: Self.a), "older")
        #expect(try await !ledger.store(Self.record("cus_1", at: 200, deleted: true), for: Self.a), "as new")
        #expect(try await ledger.store(Self.record("cus_1", at: 300, deleted: true), for: Self.a))
        #expect(try await ledger.record(of: "cus_1", for: Self.a) == Self.record("cus_1", at: 300, deleted: true))
        #expect(try await ledger.record(of: "cus_1", for: Self.b) == nil, "the live tenant is another")
        #expect(try await ledger.store(Self.record("cus_2", at: 1), for: Self.a))
        #expect(try await ledger.syncedCount(for: Self.a) == 1, "a deleted customer is not counted")
    }

    @Test(arguments: Kind.allCases) func installsFullSyncsAndPurgesArePerTenant(_ kind: Kind) async throws {
        let ledger = try Self.ledger(kind)
        try await ledger.recordInstall(by: "usr_first", at: Date(timeIntervalSince1970: 10), for: Self.a)
        try await ledger.recordInstall(by: "usr_again", at: Date(timeIntervalSince1970: 20), for: Self.a)
        let summary = FullSyncSummary(finishedAt: Date(timeIntervalSince1970: 30), customers: 5, trigger: "nightly")
        try await ledger.recordFullSync(summary, for: Self.a)
        let state = try await ledger.state(of: Self.a)
        #expect(state?.installedBy == "usr_first" && state?.installedAt == Date(timeIntervalSince1970: 10))
        #expect(state?.lastFullSync == summary)
        _ = try await ledger.store(Self.record("cus_1", at: 1), for: Self.a)
        _ = try await ledger.store(Self.record("cus_1", at: 1), for: Self.b)
        #expect(try await ledger.purge(Self.a) == 1)
        #expect(try await ledger.state(of: Self.a) == nil)
        #expect(try await ledger.record(of: "cus_1", for: Self.a) == nil)
        #expect(try await ledger.record(of: "cus_1", for: Self.b) != nil)
    }
}
