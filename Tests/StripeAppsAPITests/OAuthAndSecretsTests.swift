import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsAPI
import StripeAppsTesting
import Synchronization
import Testing

@Suite("OAuth tokens, Secret Store, tenant credentials and missed events, against the fake Stripe")
struct OAuthAndSecretsTests {
    typealias H = FakeStripeHarness

    func credentials(_ h: H, store: InMemoryStorage = InMemoryStorage()) throws -> TenantCredentials {
        TenantCredentials(
            store: store.credentials, cipher: try CredentialCipher(keys: [SymmetricKey(size: .bits256)]),
            now: h.clock.provider)
    }

    @Test("the callback code is exchanged once; tokens are stored sealed and give a client bound to the installer")
    func exchange() async throws {
        try await H.run { h in
            let store = InMemoryStorage()
            let tokens = OAuthTokens(api: h.api, credentials: try credentials(h, store: store), now: h.clock.provider)
            let code = h.fake.issueAuthorizationCode(account: H.accountA, mode: .test)
            let grant = try await tokens.exchange(code: code, mode: .test)
            #expect(grant.tenant == H.tenantA)
            #expect(!"\(grant)".contains("sk_test_oauth"))
            let sealed = try #require(
                try await store.credentials.credential(named: OAuthTokens.credentialName, for: H.tenantA))
            #expect(!String(decoding: sealed.sealed, as: UTF8.self).contains("oauth"))

            let client = try await tokens.client(for: H.tenantA)
            #expect(client.credentialKind == .oauthAccessToken)
            #expect(try await client.account.retrieve().id == H.accountA)
            #expect(h.fake.requests.last?.credential == .oauth)
            #expect(h.fake.requests.last?.stripeAccount == nil)

            let reused = await #expect(throws: StripeAPIError.self) {
                try await tokens.exchange(code: code, mode: .test)
            }
            #expect(reused?.code == .oauth)
            #expect(reused?.stripeCode == "invalid_grant")
            // A test-mode code exchanged with the live key is refused by Stripe.
            let other = h.fake.issueAuthorizationCode(account: H.accountB, mode: .test)
            await #expect(throws: StripeAPIError.self) { try await tokens.exchange(code: other, mode: .live) }
            let missing = await #expect(throws: StripeAPIError.self) { try await tokens.client(for: H.tenantB) }
            #expect(missing?.code == .missingCredential)
        }
    }

    @Test("100 concurrent calls with an expiring token refresh once, and the rotated refresh token is the one kept")
    func singleFlightRefresh() async throws {
        try await H.run { h in
            let store = InMemoryStorage()
            let tokens = OAuthTokens(api: h.api, credentials: try credentials(h, store: store), now: h.clock.provider)
            let first = try await tokens.exchange(
                code: h.fake.issueAuthorizationCode(account: H.accountA, mode: .test), mode: .test)
            let versionBefore = try #require(
                try await store.credentials.credential(named: OAuthTokens.credentialName, for: H.tenantA)
            ).version
            h.clock.advance(by: .seconds(3600 - 60))  // inside the 5-minute refresh margin
            let accounts = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await tokens.client(for: H.tenantA).account.retrieve().id }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(accounts.count == 100)
            #expect(Set(accounts) == [H.accountA])
            #expect(h.fake.refreshCount(account: H.accountA) == 1)
            #expect(h.refreshes.all == [true], "one refresh observed, not one per waiting caller")
            let after = try #require(try await tokens.grant(for: H.tenantA))
            #expect(after.accessTokenExpiresAt > first.accessTokenExpiresAt)
            let versionAfter = try #require(
                try await store.credentials.credential(named: OAuthTokens.credentialName, for: H.tenantA)
            ).version
            #expect(versionAfter == versionBefore + 1)
            // The kept refresh token is the rotated one: refreshing again works (the old one would be invalid_grant).
            try await tokens.refresh(H.tenantA)
            #expect(h.fake.refreshCount(account: H.accountA) == 2)
            // Refreshing authenticates with the platform secret key, never with a token.
            let refreshes = h.fake.requests.filter { $0.path == "/v1/oauth/token" }
            #expect(refreshes.allSatisfy { $0.credential == .platform })
            // A refresh Stripe keeps failing is observed as one failed refresh, after its retries.
            h.fake.injectFault(.serverError(), count: 4, path: "/v1/oauth/token")
            await #expect(throws: StripeAPIError.self) { try await tokens.refresh(H.tenantA) }
            #expect(h.refreshes.all == [true, true, false])
        }
    }

    @Test("another instance that rolled the refresh token first wins; this one uses its tokens")
    func refreshRaceAcrossInstances() async throws {
        try await H.run { h in
            let store = InMemoryStorage()
            let credentials = try credentials(h, store: store)
            let instance1 = OAuthTokens(api: h.api, credentials: credentials, now: h.clock.provider)
            let instance2 = OAuthTokens(api: h.api, credentials: credentials, now: h.clock.provider)
            _ = try await instance1.exchange(
                code: h.fake.issueAuthorizationCode(account: H.accountA, mode: .test), mode: .test)
            h.clock.advance(by: .seconds(3600))
            async let one = instance1.refresh(H.tenantA)
            async let two = instance2.refresh(H.tenantA)
            let (grant1, grant2) = try await (one, two)
            #expect(grant1.tenant == H.tenantA && grant2.tenant == H.tenantA)
            // Whatever the interleaving, the stored tokens work.
            #expect(try await instance1.client(for: H.tenantA).account.retrieve().id == H.accountA)
            #expect(try await instance2.client(for: H.tenantA).account.retrieve().id == H.accountA)
        }
    }

    @Test("a reseal between reading the tokens and storing the refreshed ones does not drop the refreshed ones")
    func resealDuringRefresh() async throws {
        try await H.run { h in
            let store = InMemoryStorage()
            let oldKey = SymmetricKey(size: .bits256)
            let old = TenantCredentials(
                store: store.credentials, cipher: try CredentialCipher(keys: [oldKey]), now: h.clock.provider)
            _ = try await OAuthTokens(api: h.api, credentials: old, now: h.clock.provider).exchange(
                code: h.fake.issueAuthorizationCode(account: H.accountA, mode: .test), mode: .test)
            let rotated = TenantCredentials(
                store: store.credentials, cipher: try CredentialCipher(keys: [SymmetricKey(size: .bits256), oldKey]),
                now: h.clock.provider)
            let resealing = ResealingBeforeWriteStore(inner: store.credentials, resealer: rotated)
            let tokens = OAuthTokens(
                api: h.api,
                credentials: TenantCredentials(store: resealing, cipher: rotated.cipher, now: h.clock.provider),
                now: h.clock.provider)
            h.clock.advance(by: .seconds(3600))

            let refreshed = try await tokens.refresh(H.tenantA)
            #expect(resealing.reseals.map(\.resealed) == [1])
            #expect(try await tokens.grant(for: H.tenantA) == refreshed)
            let stored = try #require(
                try await store.credentials.credential(named: OAuthTokens.credentialName, for: H.tenantA))
            #expect(stored.version == 3)
            // The stored refresh token is the rolled one: refreshing again works (the old one is invalid_grant).
            try await tokens.refresh(H.tenantA)
            #expect(h.fake.refreshCount(account: H.accountA) == 2)
        }
    }

    @Test("Secret Store: set, find with payload, list without, delete; account and user scopes are apart")
    func secretStore() async throws {
        try await H.run { h in
            let secrets = try h.api.client(for: H.tenantA).secrets
            try await secrets.set("mailer", payload: "account-key")
            try await secrets.set("mailer", payload: "user-key", scope: .user("usr_1"))
            #expect(try await secrets.find("mailer")?.payload == "account-key")
            #expect(try await secrets.find("mailer", scope: .user("usr_1"))?.payload == "user-key")
            #expect(try await secrets.find("mailer", scope: .user("usr_2")) == nil)
            try await secrets.set("mailer", payload: "replaced")
            #expect(try await secrets.find("mailer")?.payload == "replaced")
            var listed: [AppSecret] = []
            for try await secret in secrets.all() { listed.append(secret) }
            #expect(listed.map(\.name) == ["mailer"])
            #expect(listed.allSatisfy { $0.payload == nil && $0.scope == .account })
            let deleted = try await secrets.delete("mailer")
            #expect(deleted.deleted == true)
            #expect(try await secrets.find("mailer") == nil)
            #expect(try await secrets.find("mailer", scope: .user("usr_1"))?.payload == "user-key")
        }
    }

    @Test("Secret Store: 10 per scope; an 11th is refused, replacing one at the limit is fine")
    func secretLimit() async throws {
        try await H.run { h in
            let secrets = try h.api.client(for: H.tenantA).secrets
            for index in 0..<10 { try await secrets.set("s\(index)", payload: "v") }
            let refused = await #expect(throws: StripeAPIError.self) { try await secrets.set("s10", payload: "v") }
            #expect(refused?.code == .invalidRequest)
            #expect(refused?.stripeCode == "secret_limit_exceeded")
            try await secrets.set("s3", payload: "new")
            #expect(try await secrets.find("s3")?.payload == "new")
            try await secrets.set("s10", payload: "v", scope: .user("usr_1"))
        }
    }

    @Test("tenant secrets: our encrypted store and the Secret Store behave the same, and calls use them")
    func tenantSecretStores() async throws {
        try await H.run { h in
            let ours = try credentials(h)
            let stripes = SecretStoreSecrets { try h.api.client(for: $0) }
            for store in [ours, stripes] as [any TenantSecretStore] {
                #expect(try await store.secret(named: "svc", for: H.tenantA) == nil)
                try await store.setSecret("value-1", named: "svc", for: H.tenantA)
                #expect(try await store.secret(named: "svc", for: H.tenantA) == "value-1")
                #expect(try await store.secret(named: "svc", for: H.tenantB) == nil)
                try await store.deleteSecret(named: "svc", for: H.tenantA)
                try await store.deleteSecret(named: "svc", for: H.tenantA)
                #expect(try await store.secret(named: "svc", for: H.tenantA) == nil)
            }
        }
    }

    @Test("an external API call carries the tenant's own credential; without one nothing is sent")
    func externalAPI() async throws {
        try await H.run { h in
            // The fake Stripe stands in for "another service" that takes a bearer key.
            let key = h.fake.issueRestrictedKey(account: H.accountA, mode: .test)
            let credentials = try credentials(h)
            try await credentials.setSecret(key, named: "svc.key", for: H.tenantA)
            let service = ExternalAPIClient(
                baseURL: h.api.configuration.baseURL, credentialName: "svc.key", secrets: credentials)
            let response = try await service.send(.GET, "/v1/account", for: H.tenantA)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).contains(H.accountA))
            #expect(h.fake.requests.last?.credential == .restricted)
            let before = h.fake.requests.count
            let missing = await #expect(throws: StripeAPIError.self) {
                try await service.send(.GET, "/v1/account", for: H.tenantB)
            }
            #expect(missing?.code == .missingCredential)
            #expect(h.fake.requests.count == before)
            #expect(try await !service.isConnected(H.tenantB))
        }
    }

    @Test("missed events: undelivered events of active installations enter the inbox once; twice is safe")
    func recovery() async throws {
        try await H.run { h in
            let store = InMemoryStorage()
            let date = Date(timeIntervalSince1970: 1_700_000_000)
            func change(_ tenant: Tenant, _ action: InstallationChange.Action, at offset: TimeInterval)
                -> InstallationChange
            {
                InstallationChange(
                    tenant: tenant, action: action, source: .installCallback,
                    occurredAt: date.addingTimeInterval(offset), recordedAt: date)
            }
            for tenant in [H.tenantA, H.tenantB, Tenant(accountID: "acct_1Gone", mode: .test)] {
                _ = try await store.installations.apply(change(tenant, .activate, at: 0))
            }
            _ = try await store.installations.apply(
                change(Tenant(accountID: "acct_1Gone", mode: .test), .deactivate, at: 1))
            let a1 = h.fake.addEvent(type: "customer.updated", account: H.accountA, deliverySuccess: false)
            let a2 = h.fake.addEvent(type: "invoice.paid", account: H.accountA, deliverySuccess: false)
            h.fake.addEvent(type: "customer.updated", account: H.accountA, deliverySuccess: true)
            h.fake.addEvent(type: "customer.updated", account: H.accountA, mode: .live, deliverySuccess: false)
            let b1 = h.fake.addEvent(type: "customer.created", account: H.accountB, deliverySuccess: false)
            let recovery = MissedEventRecovery(
                installations: store.installations, inbox: store.inbox, clients: .platform(h.api), now: h.clock.provider
            )
            let first = try await recovery.run(mode: .test)
            #expect(first.installations == 2)
            #expect(first.enqueued == 3)
            #expect(first.failures.isEmpty)
            let inbox = try await store.inbox.events(status: .pending, limit: 10)
            #expect(Set(inbox.map(\.id)) == [a1, a2, b1])
            for event in inbox {
                let parsed = try AppEvent(json: Array(event.payload.utf8))
                #expect(parsed.tenant == Tenant(accountID: try #require(event.accountID), mode: .test))
            }
            let second = try await recovery.run(mode: .test)
            #expect(second.enqueued == 0)
            #expect(second.alreadyInInbox == 3)
            #expect(try await store.inbox.events(status: nil, limit: 10).count == 3)
        }
    }

    @Test("missed events: a blocked tenant's are not recovered, until it is unblocked")
    func recoverySkipsBlockedTenants() async throws {
        try await H.run { h in
            let store = InMemoryStorage()
            let date = Date(timeIntervalSince1970: 1_700_000_000)
            for tenant in [H.tenantA, H.tenantB] {
                _ = try await store.installations.apply(
                    InstallationChange(
                        tenant: tenant, action: .activate, source: .installCallback, occurredAt: date,
                        recordedAt: date))
            }
            let action = AdminAction(actor: "cli", date: date)
            #expect(try await store.admin.block(H.tenantB, reason: nil, by: action)?.isBlocked == true)
            let a1 = h.fake.addEvent(type: "customer.updated", account: H.accountA, deliverySuccess: false)
            let b1 = h.fake.addEvent(type: "customer.created", account: H.accountB, deliverySuccess: false)
            let recovery = MissedEventRecovery(
                installations: store.installations, inbox: store.inbox, clients: .platform(h.api), now: h.clock.provider
            )
            let blocked = try await recovery.run(mode: .test)
            #expect(blocked.installations == 1 && blocked.enqueued == 1)
            #expect(try await store.inbox.events(status: nil, limit: 10).map(\.id) == [a1])
            _ = try await store.admin.unblock(H.tenantB, by: action)
            let unblocked = try await recovery.run(mode: .test)
            #expect(unblocked.installations == 2 && unblocked.enqueued == 1)
            #expect(Set(try await store.inbox.events(status: nil, limit: 10).map(\.id)) == [a1, b1])
        }
    }
}

/// A credential store that reseals everything (`credentials reseal` running elsewhere) right before the first
/// compare-and-swap write it forwards.
private final class ResealingBeforeWriteStore: CredentialStore {
    private let inner: any CredentialStore
    private let resealer: TenantCredentials
    private let state = Mutex((fired: false, reports: [CredentialResealReport]()))

    init(inner: any CredentialStore, resealer: TenantCredentials) {
        self.inner = inner
        self.resealer = resealer
    }

    /// What each reseal it ran did.
    var reseals: [CredentialResealReport] { state.withLock { $0.reports } }

    func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential? {
        try await inner.credential(named: name, for: tenant)
    }

    func saveCredential(
        _ sealed: [UInt8], named name: String, for tenant: Tenant, expectedVersion: Int?, at date: Date
    ) async throws -> StoredCredential {
        let fire = state.withLock { state in
            guard !state.fired, expectedVersion != nil else { return false }
            state.fired = true
            return true
        }
        if fire {
            let report = try await resealer.resealAll()
            state.withLock { $0.reports.append(report) }
        }
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
