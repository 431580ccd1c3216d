import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StripeApps
import StripeAppsAPI
import StripeAppsServer
import StripeAppsTesting
import Synchronization
import Testing

/// OAuth apps: `/install?mode=…` then a callback with `code` and `state`, exchanged against the fake Stripe.
@Suite struct InstallOAuthTests {
    static let account = "acct_1OAuthInstaller00"

    /// The fake Stripe, and the backend configured for it with secret keys and `ENCRYPTION_KEYS`.
    static func withOAuthApp(
        onlyTestKey: Bool = false,
        encryption: Bool = true,
        _ body: @Sendable (FakeStripe, InMemoryStorage, Completions, any TestClientProtocol) async throws -> Void
    ) async throws {
        let fake = FakeStripe(now: { testNow })
        let keyList = onlyTestKey ? [fake.testSecretKey] : [fake.testSecretKey, fake.liveSecretKey]
        try await fake.withServer { url in
            let configuration = try InstallRouteTests.configuration { configuration in
                configuration.stripeAPIBaseURL = url.absoluteString
                configuration.stripeSecretKeys = keyList.compactMap { try? APICredential(secretKey: $0) }
                if encryption {
                    configuration.credentialCipher = try? CredentialCipher(keys: [SymmetricKey(size: .bits256)])
                }
                configuration.appServerToken = InstallTicketTests.token
                configuration.install.confirmURL = InstallTicketTests.confirmURL
            }
            let store = InMemoryStorage()
            let completions = Completions()
            let app = try buildApplication(
                configuration: configuration,
                storage: store,
                hooks: ApplicationHooks(now: { testNow }, onInstall: { completions.append($0) })
            )
            try await app.test(.router) { client in try await body(fake, store, completions, client) }
        }
    }

    func start(_ client: some TestClientProtocol, mode: String?) async throws -> InstallRouteTests.Started {
        try await InstallRouteTests().start(client, query: mode.map { "?mode=\($0)" } ?? "")
    }

    func callback(
        _ client: some TestClientProtocol, code: String, started: InstallRouteTests.Started?, state: String? = nil
    )
        async throws -> TestResponse
    {
        let state = state ?? started?.state ?? ""
        var headers = HTTPFields()
        if let started { headers[.cookie] = started.cookie }
        return try await client.execute(
            uri: "/install/callback?code=\(code)&state=\(state)&scope=stripe_apps", method: .get, headers: headers)
    }

    @Test("the code is exchanged with the key of the mode the install started for; the install is recorded")
    func exchangesTheCode() async throws {
        try await Self.withOAuthApp { fake, store, completions, client in
            let started = try await start(client, mode: "test")
            let code = fake.issueAuthorizationCode(account: Self.account, mode: .test)
            let response = try await callback(client, code: code, started: started)
            #expect(response.status == .found)
            #expect(response.headers[.location]?.contains(Self.account) == true)
            let tenant = Tenant(accountID: Self.account, mode: .test)
            #expect(try await store.installations.installation(for: tenant)?.status == .active)
            #expect(try await store.credentials.credential(named: OAuthTokens.credentialName, for: tenant) != nil)
            #expect(
                try await completions.awaitCount(1)
                    == [InstallCompletion(tenant: tenant, userID: nil, source: .oauthCallback)])
            let exchange = try #require(fake.requests.last { $0.path.hasSuffix("/oauth/token") })
            #expect(exchange.credential == .platform)
            #expect(exchange.mode == .test)
            // The same code and state again: the state is gone.
            let again = try await callback(client, code: code, started: started)
            #expect(again.status == .badRequest)
            #expect(again.text.contains("state_expired_or_used"))
        }
    }

    @Test("a refused code, a missing cookie, an unknown mode and a missing set-up are clear 4xx/503 pages")
    func failures() async throws {
        try await Self.withOAuthApp { fake, store, _, client in
            // A code for the other mode than the install: Stripe refuses it.
            let live = try await start(client, mode: "live")
            let testCode = fake.issueAuthorizationCode(account: Self.account, mode: .test)
            let refused = try await callback(client, code: testCode, started: live)
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("oauth_code_rejected"))
            #expect(!refused.text.contains(testCode))

            let noCookie = try await start(client, mode: "test")
            let stolen = try await callback(client, code: testCode, started: nil, state: noCookie.state)
            #expect(stolen.status == .badRequest)
            #expect(stolen.text.contains("browser_mismatch"))

            // Both keys configured and no mode given: the backend cannot pick a key.
            let unknown = try await start(client, mode: nil)
            let ambiguous = try await callback(client, code: testCode, started: unknown)
            #expect(ambiguous.status == .badRequest)
            #expect(ambiguous.text.contains("mode_unknown"))

            let malformed = try await callback(
                client, code: "ac_<script>", started: try await start(client, mode: "test"))
            #expect(malformed.status == .badRequest)
            #expect(!malformed.text.contains("<script>"))

            let badMode = try await client.execute(uri: "/install?mode=sandbox", method: .get)
            #expect(badMode.status == .badRequest)
            #expect(badMode.text.contains("invalid_mode"))
            #expect(try await store.installations.installations().isEmpty)
        }
        try await Self.withOAuthApp(encryption: false) { fake, _, _, client in
            let started = try await start(client, mode: "test")
            let response = try await callback(
                client, code: fake.issueAuthorizationCode(account: Self.account), started: started)
            #expect(response.status == .serviceUnavailable)
            #expect(response.text.contains("oauth_not_configured"))
        }
    }

    @Test("an OAuth install started with a ticket returns with a link code the ticket's user redeems")
    func ticketsWorkForOAuthApps() async throws {
        try await Self.withOAuthApp { fake, store, completions, client in
            let tickets = InstallTicketTests()
            let ticket = try await tickets.ticket(client, for: "crm-7", mode: "test")
            let started = try await InstallRouteTests().start(client, query: "?ticket=\(ticket)")
            let response = try await callback(
                client, code: fake.issueAuthorizationCode(account: Self.account, mode: .test), started: started)
            let code = try tickets.linkCode(of: response)
            let redeemed = try await tickets.post(
                client, "/install/links", #"{"link_code":"\#(code)","app_user":"crm-7"}"#)
            #expect(
                redeemed.text
                    == #"{"account_id":"acct_1OAuthInstaller00","livemode":false,"user_id":null,"app_user":"crm-7","installed":true}"#
            )
            #expect(try await completions.awaitCount(1).count == 1)
            #expect(
                try await store.credentials.credential(
                    named: OAuthTokens.credentialName, for: Tenant(accountID: Self.account, mode: .test)) != nil)
        }
    }

    @Test("with one key configured, an install without a mode uses that key's mode")
    func singleKeyPicksItsMode() async throws {
        try await Self.withOAuthApp(onlyTestKey: true) { fake, store, _, client in
            let started = try await start(client, mode: nil)
            let response = try await callback(
                client, code: fake.issueAuthorizationCode(account: Self.account, mode: .test), started: started)
            #expect(response.status == .found)
            #expect(
                try await store.installations.installation(for: Tenant(accountID: Self.account, mode: .test)) != nil)
        }
    }
}

/// The completions the `onInstall` hook saw. The hook runs from the inbox after the callback answered, so tests
/// wait for it.
final class Completions: Sendable {
    private struct State {
        var list: [InstallCompletion] = []
        var waiters: [Int: (count: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter = 0
    }
    private let state = Mutex(State())

    func append(_ completion: InstallCompletion) {
        let ready = state.withLock { state in
            state.list.append(completion)
            let ready = state.waiters.filter { $0.value.count <= state.list.count }
            for key in ready.keys { state.waiters[key] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    var all: [InstallCompletion] { state.withLock { $0.list } }

    /// The completions once there are at least `count` of them, or those there are after `limit`.
    func awaitCount(_ count: Int, within limit: Duration = .seconds(30)) async throws -> [InstallCompletion] {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitFor(count) }
            group.addTask { try await Task.sleep(for: limit) }
            try await group.next()
            group.cancelAll()
        }
        return all
    }

    /// Returns once there are `count` completions, or when the task is cancelled.
    private func waitFor(_ count: Int) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    if state.list.count >= count || Task.isCancelled { return true }
                    state.waiters[id] = (count, continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
        }
    }
}
