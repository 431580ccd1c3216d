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
        try await backend.withStorage { storage in
            let live = Tenant(accountID: "acct_cred", mode: .live)
            #expect(try await storage.credentials.credential(named: "a", for: Self.tenant) == nil)
            let first = try await storage.credentials.saveCredential(
                [1, 2, 3], named: "a", for: Self.tenant, expectedVersion: 0, at: Self.now)
            #expect(first.version == 1)
            let second = try await storage.credentials.saveCredential(
                [4, 0, 255], named: "a", for: Self.tenant, expectedVersion: nil, at: Self.now)
            #expect(second.version == 2)
            let read = try #require(try await storage.credentials.credential(named: "a", for: Self.tenant))
            #expect(read.sealed == [4, 0, 255])
            #expect(read.version == 2)
            #expect(read.updatedAt == Self.now)
            #expect(try await storage.credentials.credential(named: "a", for: live) == nil)
            #expect(try await storage.credentials.credential(named: "b", for: Self.tenant) == nil)
            #expect(try await storage.credentials.deleteCredential(named: "a", for: Self.tenant))
            #expect(try await !storage.credentials.deleteCredential(named: "a", for: Self.tenant))
            #expect(try await storage.credentials.credential(named: "a", for: Self.tenant) == nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func staleVersionIsAConflictAndChangesNothing(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            _ = try await storage.credentials.saveCredential(
                [1], named: "oauth", for: Self.tenant, expectedVersion: 0, at: Self.now)
            let conflict = await #expect(throws: StoreError.self) {
                try await storage.credentials.saveCredential(
                    [2], named: "oauth", for: Self.tenant, expectedVersion: 0, at: Self.now)
            }
            #expect(conflict?.code == .versionConflict)
            #expect(conflict?.currentVersion == 1)
            let kept = try await storage.credentials.credential(named: "oauth", for: Self.tenant)
            #expect(kept?.sealed == [1])
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentCompareAndSwapHasOneWinner(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            _ = try await storage.credentials.saveCredential(
                [0], named: "oauth", for: Self.tenant, expectedVersion: 0, at: Self.now)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 1...20 {
                    group.addTask {
                        do {
                            _ = try await storage.credentials.saveCredential(
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
            #expect(try await storage.credentials.credential(named: "oauth", for: Self.tenant)?.version == 2)
        }
    }

    @Test(arguments: Backend.enabled)
    func purgeDeletesTheTenantsCredentialsOnly(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let other = Tenant(accountID: "acct_other", mode: .test)
            _ = try await storage.credentials.saveCredential(
                [1], named: "mailer", for: Self.tenant, expectedVersion: nil, at: Self.now)
            _ = try await storage.credentials.saveCredential(
                [2], named: "oauth", for: Self.tenant, expectedVersion: nil, at: Self.now)
            _ = try await storage.credentials.saveCredential(
                [3], named: "mailer", for: other, expectedVersion: nil, at: Self.now)
            let uninstall = InstallationChange(
                tenant: Self.tenant, action: .deactivate,
                source: .event(type: "account.application.deauthorized", id: "evt_u"),
                occurredAt: Self.now, recordedAt: Self.now)
            #expect(try await storage.installations.apply(uninstall) == .applied)
            #expect(try await storage.credentials.credential(named: "mailer", for: Self.tenant) == nil)
            #expect(try await storage.credentials.credential(named: "oauth", for: Self.tenant) == nil)
            #expect(try await storage.credentials.credential(named: "mailer", for: other)?.sealed == [3])
        }
    }

    @Test(arguments: Backend.enabled)
    func tenantCredentialsStoreOnlySealedBytes(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let cipher = try CredentialCipher(keys: [SymmetricKey(size: .bits256)])
            let credentials = TenantCredentials(store: storage.credentials, cipher: cipher, now: { Self.now })
            try await credentials.setSecret("mailer-key-0123456789", named: "mailer", for: Self.tenant)
            #expect(try await credentials.secret(named: "mailer", for: Self.tenant) == "mailer-key-0123456789")
            let raw = try #require(try await storage.credentials.credential(named: "mailer", for: Self.tenant))
            #expect(!String(decoding: raw.sealed, as: UTF8.self).contains("mailer-key"))
            try await credentials.deleteSecret(named: "mailer", for: Self.tenant)
            #expect(try await credentials.secret(named: "mailer", for: Self.tenant) == nil)
        }
    }
}
