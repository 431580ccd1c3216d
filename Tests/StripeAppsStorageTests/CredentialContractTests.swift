import Crypto
import Foundation
import StripeApps
import Testing

/// Sealed tenant credentials: per tenant and name, compare-and-swap versions, deleted by the uninstall purge.
@Suite struct CredentialContractTests {
    static let tenant = Tenant(accountID: "acct_cred", mode: .test)
    static let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test(arguments: Backend.enabled)
    func credentialsAreKeptPerTenantAndNameWithVersions(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let live = Tenant(accountID: "acct_cred", mode: .live)
            #expect(try await store.credential(named: "a", for: Self.tenant) == nil)
            let first = try await store.saveCredential(
                [1, 2, 3], named: "a", for: Self.tenant, expectedVersion: 0, at: Self.now)
            #expect(first.version == 1)
            let second = try await store.saveCredential(
                [4, 0, 255], named: "a", for: Self.tenant, expectedVersion: nil, at: Self.now)
            #expect(second.version == 2)
            let read = try #require(try await store.credential(named: "a", for: Self.tenant))
            #expect(read.sealed == [4, 0, 255])
            #expect(read.version == 2)
            #expect(read.updatedAt == Self.now)
            #expect(try await store.credential(named: "a", for: live) == nil)
            #expect(try await store.credential(named: "b", for: Self.tenant) == nil)
            #expect(try await store.deleteCredential(named: "a", for: Self.tenant))
            #expect(try await !store.deleteCredential(named: "a", for: Self.tenant))
            #expect(try await store.credential(named: "a", for: Self.tenant) == nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func staleVersionIsAConflictAndChangesNothing(_ backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.saveCredential([1], named: "oauth", for: Self.tenant, expectedVersion: 0, at: Self.now)
            let conflict = await #expect(throws: StoreError.self) {
                try await store.saveCredential([2], named: "oauth", for: Self.tenant, expectedVersion: 0, at: Self.now)
            }
            #expect(conflict?.code == .versionConflict)
            #expect(conflict?.currentVersion == 1)
            let kept = try await store.credential(named: "oauth", for: Self.tenant)
            #expect(kept?.sealed == [1])
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentCompareAndSwapHasOneWinner(_ backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.saveCredential([0], named: "oauth", for: Self.tenant, expectedVersion: 0, at: Self.now)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 1...20 {
                    group.addTask {
                        do {
                            _ = try await store.saveCredential(
                                [UInt8(index)], named: "oauth", for: Self.tenant, expectedVersion: 1, at: Self.now)
                            return true
                        } catch let error as StoreError where error.code == .versionConflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            #expect(try await store.credential(named: "oauth", for: Self.tenant)?.version == 2)
        }
    }

    @Test(arguments: Backend.enabled)
    func purgeDeletesTheTenantsCredentialsOnly(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let other = Tenant(accountID: "acct_other", mode: .test)
            _ = try await store.saveCredential(
                [1], named: "mailer", for: Self.tenant, expectedVersion: nil, at: Self.now)
            _ = try await store.saveCredential(
                [2], named: "oauth", for: Self.tenant, expectedVersion: nil, at: Self.now)
            _ = try await store.saveCredential([3], named: "mailer", for: other, expectedVersion: nil, at: Self.now)
            try await store.purgeTenantData(Self.tenant, reason: "evt_uninstall", at: Self.now)
            #expect(try await store.credential(named: "mailer", for: Self.tenant) == nil)
            #expect(try await store.credential(named: "oauth", for: Self.tenant) == nil)
            #expect(try await store.credential(named: "mailer", for: other)?.sealed == [3])
        }
    }

    @Test(arguments: Backend.enabled)
    func tenantCredentialsStoreOnlySealedBytes(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let cipher = try CredentialCipher(keys: [SymmetricKey(size: .bits256)])
            let credentials = TenantCredentials(store: store, cipher: cipher, now: { Self.now })
            try await credentials.setSecret("mailer-key-0123456789", named: "mailer", for: Self.tenant)
            #expect(try await credentials.secret(named: "mailer", for: Self.tenant) == "mailer-key-0123456789")
            let raw = try #require(try await store.credential(named: "mailer", for: Self.tenant))
            #expect(!String(decoding: raw.sealed, as: UTF8.self).contains("mailer-key"))
            try await credentials.deleteSecret(named: "mailer", for: Self.tenant)
            #expect(try await credentials.secret(named: "mailer", for: Self.tenant) == nil)
        }
    }
}
