import Crypto
import Foundation
import StripeApps
import Synchronization
import Testing

/// What resealing needs of every backend: paged listing, version-bound seals (no rollback), compare-and-swap
/// writes under concurrent writers, and key retirement.
@Suite struct CredentialResealContractTests {
    static let tenant = Tenant(accountID: "acct_reseal", mode: .test)
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let oldKey = SymmetricKey(data: Data(repeating: 0x01, count: 32))
    static let newKey = SymmetricKey(data: Data(repeating: 0x02, count: 32))

    @Test(arguments: Backend.enabled)
    func listingPagesThroughEveryCredentialOnceInOrder(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            var expected: [StoredCredential.ID] = []
            for account in ["acct_a", "acct_b", "acct_c"] {
                for mode in [Tenant.Mode.test, .live] {
                    for name in ["mailer", "stripe.oauth"] {
                        let tenant = Tenant(accountID: account, mode: mode)
                        _ = try await storage.credentials.saveCredential(
                            Array(name.utf8), named: name, for: tenant, expectedVersion: 0, at: Self.now)
                        expected.append(StoredCredential.ID(tenant: tenant, name: name))
                    }
                }
            }
            _ = try await storage.credentials.saveCredential(
                [9], named: "mailer", for: Tenant(accountID: "acct_a", mode: .test), expectedVersion: 1, at: Self.now)
            #expect(try await storage.credentials.credentials(after: nil, limit: 0).isEmpty)
            var listed: [StoredCredential] = []
            var position: StoredCredential.ID?
            while true {
                let page = try await storage.credentials.credentials(after: position, limit: 5)
                #expect(page.count <= 5)
                guard let last = page.last else { break }
                listed += page
                position = last.id
            }
            // Account, then test before live, then name.
            #expect(listed.map(\.id) == expected)
            let first = try #require(listed.first)
            #expect(first.sealed == [9] && first.version == 2 && first.updatedAt == Self.now)
            #expect(listed.dropFirst().allSatisfy { $0.sealed == Array($0.name.utf8) && $0.version == 1 })
        }
    }

    @Test(arguments: Backend.enabled)
    func anOlderSealedValueCopiedOverANewerRowDoesNotOpen(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let credentials = TenantCredentials(
                store: storage.credentials, cipher: try CredentialCipher(keys: [Self.newKey]), now: { Self.now })
            try await credentials.setSecret("first-value", named: "mailer", for: Self.tenant)
            let first = try #require(try await storage.credentials.credential(named: "mailer", for: Self.tenant))
            try await credentials.setSecret("second-value", named: "mailer", for: Self.tenant)
            #expect(try await credentials.secret(named: "mailer", for: Self.tenant) == "second-value")

            // Whoever writes the database puts the older sealed bytes back: the row is then at version 3.
            _ = try await storage.credentials.saveCredential(
                first.sealed, named: "mailer", for: Self.tenant, expectedVersion: 2, at: Self.now)
            let rollback = await #expect(throws: CredentialError.self) {
                try await credentials.secret(named: "mailer", for: Self.tenant)
            }
            #expect(rollback?.code == .tampered)
            // The same bytes at their own version open: the binding is to the version, nothing else changed.
            _ = try await storage.credentials.deleteCredential(named: "mailer", for: Self.tenant)
            _ = try await storage.credentials.saveCredential(
                first.sealed, named: "mailer", for: Self.tenant, expectedVersion: 0, at: Self.now)
            #expect(try await credentials.secret(named: "mailer", for: Self.tenant) == "first-value")
        }
    }

    @Test(arguments: Backend.enabled)
    func writesWithoutAVersionAreACompareAndSwapLoopThatEveryWriterGetsThrough(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let credentials = TenantCredentials(
                store: storage.credentials, cipher: try CredentialCipher(keys: [Self.newKey]), now: { Self.now })
            try await credentials.setSecret("initial", named: "mailer", for: Self.tenant)
            // Each writer loses at most once per other writer, fewer times than the loop tries.
            let writers = TenantCredentials.unconditionalWriteAttempts - 2
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1...writers {
                    group.addTask {
                        try await credentials.setSecret("value-\(index)", named: "mailer", for: Self.tenant)
                    }
                }
                try await group.waitForAll()
            }
            let (value, version) = try #require(try await credentials.versionedValue(named: "mailer", for: Self.tenant))
            #expect(version == 1 + writers)
            #expect((1...writers).map { "value-\($0)" }.contains(String(decoding: value, as: UTF8.self)))
        }
    }

    @Test(arguments: Backend.enabled)
    func aWriteBetweenReadAndWriteIsRetriedOnlyWithoutAnExpectedVersion(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let cipher = try CredentialCipher(keys: [Self.newKey])
            let direct = TenantCredentials(store: storage.credentials, cipher: cipher, now: { Self.now })
            let interfering = InterferingCredentialStore(inner: storage.credentials) {
                try await direct.setSecret("concurrent", named: "mailer", for: Self.tenant)
            }
            let credentials = TenantCredentials(store: interfering, cipher: cipher, now: { Self.now })
            try await direct.setSecret("initial", named: "mailer", for: Self.tenant)

            interfering.arm()
            try await credentials.setSecret("mine", named: "mailer", for: Self.tenant)
            #expect(interfering.interferences == 1)
            let (value, version) = try #require(try await direct.versionedValue(named: "mailer", for: Self.tenant))
            #expect(String(decoding: value, as: UTF8.self) == "mine")
            #expect(version == 3)

            interfering.arm()
            let conflict = await #expect(throws: StoreError.self) {
                try await credentials.save(Array("stale".utf8), named: "mailer", for: Self.tenant, expectedVersion: 3)
            }
            #expect(conflict?.code == .versionConflict)
            #expect(try await direct.secret(named: "mailer", for: Self.tenant) == "concurrent")
        }
    }

    @Test(arguments: Backend.enabled)
    func resealLetsTheOldKeyBeRetired(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let old = TenantCredentials(
                store: storage.credentials, cipher: try CredentialCipher(keys: [Self.oldKey]), now: { Self.now })
            let tenants = (0..<5).map { Tenant(accountID: "acct_\($0)", mode: $0.isMultiple(of: 2) ? .test : .live) }
            for tenant in tenants {
                try await old.setSecret("mailer-\(tenant.accountID)", named: "mailer", for: tenant)
            }
            // Two written by an earlier release: the format without the version.
            for tenant in tenants.prefix(2) {
                let legacy = try old.cipher.sealLegacy(
                    Array("oauth-\(tenant.accountID)".utf8), for: tenant, name: "oauth")
                _ = try await storage.credentials.saveCredential(
                    legacy, named: "oauth", for: tenant, expectedVersion: 0, at: Self.now)
            }
            let rotatedCipher = try CredentialCipher(keys: [Self.newKey, Self.oldKey])
            let rotated = TenantCredentials(store: storage.credentials, cipher: rotatedCipher, now: { Self.now })
            try await rotated.setSecret("already-new", named: "fresh", for: tenants[0])

            let dryRun = try await rotated.resealAll(dryRun: true, pageSize: 3)
            #expect(dryRun.isDryRun)
            #expect(dryRun.resealed == 7 && dryRun.alreadyCurrent == 1 && dryRun.failures.isEmpty)
            let untouched = try await storage.credentials.credentials(after: nil, limit: 100)
            #expect(untouched.filter { $0.name != "fresh" }.allSatisfy { rotatedCipher.needsResealing($0.sealed) })

            let report = try await rotated.resealAll(pageSize: 3)
            #expect(!report.isDryRun)
            #expect(report.resealed == 7 && report.alreadyCurrent == 1 && report.failures.isEmpty)
            let again = try await rotated.resealAll(pageSize: 3)
            #expect(again.resealed == 0 && again.alreadyCurrent == 8)

            // The old key is gone from the configuration: everything still opens.
            let retired = TenantCredentials(
                store: storage.credentials, cipher: try CredentialCipher(keys: [Self.newKey]), now: { Self.now })
            for tenant in tenants {
                #expect(try await retired.secret(named: "mailer", for: tenant) == "mailer-\(tenant.accountID)")
            }
            for tenant in tenants.prefix(2) {
                #expect(try await retired.secret(named: "oauth", for: tenant) == "oauth-\(tenant.accountID)")
            }
            #expect(try await retired.secret(named: "fresh", for: tenants[0]) == "already-new")
            #expect(try await retired.resealAll().alreadyCurrent == 8)
        }
    }

    @Test(arguments: Backend.enabled)
    func resealReportsWhatDoesNotOpenAndWritesNothingForIt(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let lost = TenantCredentials(
                store: storage.credentials, cipher: try CredentialCipher(keys: [Self.oldKey]), now: { Self.now })
            try await lost.setSecret("lost-value", named: "mailer", for: Self.tenant)
            let current = TenantCredentials(
                store: storage.credentials, cipher: try CredentialCipher(keys: [Self.newKey]), now: { Self.now })
            try await current.setSecret("kept-value", named: "oauth", for: Self.tenant)
            let moved = try #require(try await storage.credentials.credential(named: "oauth", for: Self.tenant))
            _ = try await storage.credentials.saveCredential(
                moved.sealed, named: "copied", for: Self.tenant, expectedVersion: 0, at: Self.now)

            let report = try await current.resealAll()
            #expect(report.resealed == 0 && report.alreadyCurrent == 1)
            #expect(
                Set(report.failures) == [
                    .init(credential: .init(tenant: Self.tenant, name: "mailer"), reason: "unknown_encryption_key"),
                    .init(credential: .init(tenant: Self.tenant, name: "copied"), reason: "credential_tampered"),
                ])
            #expect(try await storage.credentials.credential(named: "mailer", for: Self.tenant)?.version == 1)
            #expect(!"\(report)".contains("value"))
        }
    }

    @Test(arguments: Backend.enabled)
    func aConcurrentWriterWinsOverTheReseal(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let rotatedCipher = try CredentialCipher(keys: [Self.newKey, Self.oldKey])
            let old = TenantCredentials(
                store: storage.credentials, cipher: try CredentialCipher(keys: [Self.oldKey]), now: { Self.now })
            let rotated = TenantCredentials(store: storage.credentials, cipher: rotatedCipher, now: { Self.now })
            try await old.setSecret("refresh-token-1", named: "stripe.oauth", for: Self.tenant)
            // An instance still on the old configuration refreshes right before the reseal writes: it rolls the
            // token and seals with the old key.
            let interfering = InterferingCredentialStore(inner: storage.credentials) {
                try await old.setSecret("refresh-token-2", named: "stripe.oauth", for: Self.tenant)
            }
            interfering.arm()
            let report = try await TenantCredentials(store: interfering, cipher: rotatedCipher, now: { Self.now })
                .resealAll()
            #expect(interfering.interferences == 1)
            // The reseal did not overwrite the rotated token; it read it again and resealed that.
            #expect(report.resealed == 1 && report.failures.isEmpty)
            let (value, version) = try #require(
                try await rotated.versionedValue(named: "stripe.oauth", for: Self.tenant))
            #expect(String(decoding: value, as: UTF8.self) == "refresh-token-2")
            #expect(version == 3)
            let stored = try #require(try await storage.credentials.credential(named: "stripe.oauth", for: Self.tenant))
            #expect(!rotatedCipher.needsResealing(stored.sealed))
        }
    }
}

/// A credential store that runs `interfere` (another writer) once, right before the next compare-and-swap
/// write after ``arm()``: the interleaving a concurrent writer produces, without timing.
final class InterferingCredentialStore: CredentialStore {
    private let inner: any CredentialStore
    private let interfere: @Sendable () async throws -> Void
    private let state = Mutex((armed: false, count: 0))

    init(inner: any CredentialStore, interfere: @escaping @Sendable () async throws -> Void) {
        self.inner = inner
        self.interfere = interfere
    }

    func arm() { state.withLock { $0.armed = true } }

    var interferences: Int { state.withLock { $0.count } }

    func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential? {
        try await inner.credential(named: name, for: tenant)
    }

    func saveCredential(
        _ sealed: [UInt8], named name: String, for tenant: Tenant, expectedVersion: Int?, at date: Date
    ) async throws -> StoredCredential {
        let fire = state.withLock { state in
            guard state.armed, expectedVersion != nil else { return false }
            state.armed = false
            state.count += 1
            return true
        }
        if fire { try await interfere() }
        return try await inner.saveCredential(
            sealed, named: name, for: tenant, expectedVersion: expectedVersion, at: date)
    }

    func credentials(after position: StoredCredential.ID?, limit: Int) async throws -> [StoredCredential] {
        try await inner.credentials(after: position, limit: limit)
    }

    func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool {
        try await inner.deleteCredential(named: name, for: tenant)
    }

    func auditRecords(for tenant: Tenant) async throws -> [AuditRecord] {
        try await inner.auditRecords(for: tenant)
    }
}
