import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StripeApps
import StripeAppsServer
import Synchronization
import Testing

@Suite struct InstallRouteTests {
    static let callback = "https://backend.example.com/install/callback"

    static func configuration(_ change: (inout AppConfiguration) -> Void = { _ in }) throws -> AppConfiguration {
        var configuration = try AppConfiguration.testing()
        configuration.appID = "com.example.app"
        configuration.publicURL = "https://backend.example.com"
        configuration.install = InstallConfiguration(
            installLink: "https://marketplace.stripe.com/apps/install/link/chnlink_test",
            redirectURI: callback
        )
        configuration.manifest = AppManifest(id: "com.example.app", allowedRedirectURIs: [callback])
        change(&configuration)
        return configuration
    }

    struct Started {
        let state: String
        let cookie: String
        let location: String
    }

    func start(_ client: some TestClientProtocol, query: String = "") async throws -> Started {
        let response = try await client.execute(uri: "/install" + query, method: .get)
        #expect(response.status == .found)
        let location = try #require(response.headers[.location])
        let components = try #require(URLComponents(string: location))
        let state = try #require(components.queryItems?.first { $0.name == "state" }?.value)
        let setCookie = try #require(response.headers[.setCookie])
        return Started(state: state, cookie: String(setCookie.prefix { $0 != ";" }), location: location)
    }

    func callbackURI(
        state: String,
        account: String = "acct_1JSkf6FRwUQjTSJE",
        signedAccount: String? = nil,
        user: String = "usr_K6yd2CbXLO9A5G",
        livemode: String? = nil,
        timestamp: Int64 = 1_700_000_000,
        secret: String = appSecret
    ) throws -> String {
        let payload = try InstallRedirectPayload(state: state, userID: user, accountID: signedAccount ?? account)
        let signature = SignatureSigner(keyring: try SigningKeyring(secrets: [secret])).signatureHeader(
            for: payload.bytes, timestamp: timestamp)
        var components = URLComponents()
        components.path = "/install/callback"
        components.queryItems =
            [
                .init(name: "user_id", value: user), .init(name: "account_id", value: account),
                .init(name: "state", value: state),
                .init(name: "install_signature", value: signature.headerValue),
            ] + (livemode.map { [.init(name: "livemode", value: $0)] } ?? [])
        return try #require(components.string)
    }

    /// An error callback ends the state only in the browser that holds its cookie (issue 12, item 6).
    @Test func anErrorCallbackEndsTheStateOnlyWithItsCookie() async throws {
        try await withTestApp(configuration: Self.configuration()) { client in
            let started = try await start(client)
            let foreign = try await client.execute(
                uri: "/install/callback?error=access_denied&state=\(started.state)", method: .get)
            #expect(code(of: foreign) == "install_cancelled")
            #expect(foreign.headers[.setCookie] == nil, "another browser's callback leaves the cookie alone")
            // The state survived: the real browser still completes the install.
            let completed = try await client.execute(
                uri: try callbackURI(state: started.state), method: .get, headers: [.cookie: started.cookie])
            #expect(completed.status == .found, "\(code(of: completed) ?? completed.text.prefix(200).description)")

            let second = try await start(client)
            let own = try await client.execute(
                uri: "/install/callback?error=access_denied&state=\(second.state)", method: .get,
                headers: [.cookie: second.cookie])
            #expect(code(of: own) == "install_cancelled")
            #expect(own.headers[.setCookie]?.contains("Max-Age=0") == true, "the state is gone, and its cookie")
            let after = try await client.execute(
                uri: try callbackURI(state: second.state), method: .get, headers: [.cookie: second.cookie])
            #expect(code(of: after) == "state_expired_or_used", "the browser's own error callback ended it")
        }
    }

    func code(of response: TestResponse) -> String? {
        guard let range = response.text.range(of: "data-code=\"") else { return nil }
        return String(response.text[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func installStartsWithAOneTimeStateBoundToACookie() async throws {
        let store = InMemoryStorage()
        try await withTestApp(configuration: Self.configuration(), storage: store) { client in
            let response = try await client.execute(uri: "/install", method: .get)
            #expect(response.status == .found)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.headers[.accessControlAllowOrigin] == nil)
            let location = try #require(response.headers[.location])
            #expect(
                location.hasPrefix(
                    "https://marketplace.stripe.com/apps/install/link/chnlink_test?redirect_uri=https%3A%2F%2Fbackend.example.com%2Finstall%2Fcallback&state="
                ))
            let state = String(location.split(separator: "=").last ?? "")
            #expect(state.count == 64 && state.allSatisfy(\.isHexDigit))
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("__Host-stripe_apps_install=\(state);"))
            for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=600"] {
                #expect(cookie.contains(attribute), "\(attribute)")
            }
            #expect(!cookie.contains("Domain"))
        }
    }

    @Test func httpBackendsGetAPlainCookieAndTheOAuthFormWithoutALink() async throws {
        let configuration = try Self.configuration {
            $0.publicURL = "http://127.0.0.1:8080"
            $0.install.installLink = nil
            $0.install.redirectURI = "http://127.0.0.1:8080/install/callback"
            $0.manifest?.allowedRedirectURIs = ["http://127.0.0.1:8080/install/callback"]
        }
        try await withTestApp(configuration: configuration) { client in
            let started = try await start(client)
            #expect(started.cookie.hasPrefix("stripe_apps_install="))
            #expect(
                started.location.hasPrefix(
                    "https://marketplace.stripe.com/oauth/v2/authorize?client_id=com.example.app&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Finstall%2Fcallback&state="
                ))
        }
    }

    @Test func aSignedCallbackRecordsTheInstallationAndOpensOnboarding() async throws {
        let store = InMemoryStorage()
        let completions = Completions()
        let app = try buildApplication(
            configuration: Self.configuration(),
            storage: store,
            hooks: ApplicationHooks(now: { testNow }, onInstall: { completions.append($0) })
        )
        try await app.test(.router) { client in
            let started = try await start(client, query: "?mode=live")
            let response = try await client.execute(
                uri: try callbackURI(state: started.state), method: .get, headers: [.cookie: started.cookie])
            #expect(response.status == .found)
            #expect(
                response.headers[.location]
                    == "https://dashboard.stripe.com/acct_1JSkf6FRwUQjTSJE/dashboard?apps[com.example.app][drawer]=onboarding"
            )
            #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            let tenant = Tenant(accountID: "acct_1JSkf6FRwUQjTSJE", mode: .live)
            #expect(try await store.installations.installation(for: tenant)?.status == .active)
            #expect(
                try await completions.awaitCount(1) == [InstallCompletion(tenant: tenant, userID: "usr_K6yd2CbXLO9A5G")]
            )

            // The same redirect again: the state was consumed.
            let replay = try await client.execute(
                uri: try callbackURI(state: started.state), method: .get, headers: [.cookie: started.cookie])
            #expect(replay.status == .badRequest)
            #expect(code(of: replay) == "state_expired_or_used")
        }
    }

    @Test func testModeInstallsTheTestTenantAndLinksToTestMode() async throws {
        let store = InMemoryStorage()
        try await withTestApp(
            configuration: Self.configuration {
                $0.install.onboardingTarget = .modal
                $0.install.onboardingViewport = "settings"
            }, storage: store
        ) { client in
            let started = try await start(client)
            let response = try await client.execute(
                uri: try callbackURI(state: started.state, livemode: "false"), method: .get,
                headers: [.cookie: started.cookie])
            #expect(
                response.headers[.location]
                    == "https://dashboard.stripe.com/acct_1JSkf6FRwUQjTSJE/test/dashboard?apps[com.example.app][modal]=settings"
            )
            #expect(
                try await store.installations.installation(for: Tenant(accountID: "acct_1JSkf6FRwUQjTSJE", mode: .test))
                    != nil)
            #expect(
                try await store.installations.installation(for: Tenant(accountID: "acct_1JSkf6FRwUQjTSJE", mode: .live))
                    == nil)
        }
    }

    @Test func failuresAreClearPagesThatChangeNothing() async throws {
        let store = InMemoryStorage()
        try await withTestApp(configuration: Self.configuration(), storage: store) { client in
            let mine = try await start(client)
            let theirs = try await start(client)
            let cases: [(String, String, HTTPFields)] = [
                ("browser_mismatch", try callbackURI(state: theirs.state), [.cookie: mine.cookie]),
                ("browser_mismatch", try callbackURI(state: mine.state), [:]),
                (
                    "invalid_signature",
                    try callbackURI(
                        state: mine.state, account: "acct_attacker", signedAccount: "acct_1JSkf6FRwUQjTSJE"),
                    [.cookie: mine.cookie]
                ),
                (
                    "invalid_signature", try callbackURI(state: mine.state, secret: "absec_not_this_app"),
                    [.cookie: mine.cookie]
                ),
                (
                    "signature_expired", try callbackURI(state: mine.state, timestamp: 1_700_000_000 - 301),
                    [.cookie: mine.cookie]
                ),
                ("invalid_parameters", try callbackURI(state: mine.state, livemode: "maybe"), [.cookie: mine.cookie]),
                (
                    "invalid_parameters", try callbackURI(state: mine.state, account: "acct_<script>"),
                    [.cookie: mine.cookie]
                ),
                (
                    "missing_parameters", "/install/callback?state=\(mine.state)&account_id=acct_1",
                    [.cookie: mine.cookie]
                ),
                (
                    "install_cancelled",
                    "/install/callback?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E", [:]
                ),
                // Any error without a state is a cancelled install (InstallCancelledTests).
                ("install_cancelled", "/install/callback?error=%3Cb%3Eserver%3C%2Fb%3E", [:]),
            ]
            for (expected, uri, headers) in cases {
                let response = try await client.execute(uri: uri, method: .get, headers: headers)
                #expect(response.status == .badRequest, "\(expected)")
                #expect(code(of: response) == expected)
                #expect(response.headers[.setCookie] == nil, "\(expected): the state is unused, so its cookie stays")
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(
                    !response.text.contains("<script>") && !response.text.contains("<b>")
                        && !response.text.contains(appSecret))
            }
            // None of those consumed the state or recorded anything: the real callback still works once.
            #expect(
                try await store.installations.installation(for: Tenant(accountID: "acct_attacker", mode: .live)) == nil)
            let ok = try await client.execute(
                uri: try callbackURI(state: mine.state), method: .get, headers: [.cookie: mine.cookie])
            #expect(ok.status == .found)
        }
    }

    /// Issue 17, item 7: a callback that fails before the state is consumed keeps the state cookie, so the same
    /// redirect, reloaded once the backend is fixed, shows the real answer rather than `browser_mismatch`.
    @Test func aCallbackRetriedAfterAFixSucceedsWithTheCookieItKept() async throws {
        let store = InMemoryStorage()
        // Deployed with the wrong app secret: Stripe's signature does not verify.
        var misconfigured = try Self.configuration()
        misconfigured.appSecrets = try SigningKeyring(secrets: ["absec_test_a_secret_of_another_app"])
        let attempt = Mutex<(Started, TestResponse)?>(nil)
        try await withTestApp(configuration: misconfigured, storage: store) { client in
            let begun = try await start(client)
            let failed = try await client.execute(
                uri: try callbackURI(state: begun.state), method: .get, headers: [.cookie: begun.cookie])
            attempt.withLock { $0 = (begun, failed) }
        }
        let (begun, first) = try #require(attempt.withLock { $0 })
        #expect(code(of: first) == "invalid_signature")
        #expect(first.headers[.setCookie] == nil)
        // The secret fixed and the backend restarted on the same storage: the reload (same URL, same cookie) installs.
        try await withTestApp(configuration: Self.configuration(), storage: store) { client in
            let reloaded = try await client.execute(
                uri: try callbackURI(state: begun.state), method: .get, headers: [.cookie: begun.cookie])
            #expect(reloaded.status == .found, "\(code(of: reloaded) ?? "")")
            #expect(reloaded.headers[.setCookie]?.contains("Max-Age=0") == true, "consumed now: the cookie goes")
        }
    }

    @Test func anExpiredStateIsRefused() async throws {
        let clock = Mutex(testNow)
        let app = try buildApplication(
            configuration: Self.configuration(),
            storage: InMemoryStorage(),
            hooks: ApplicationHooks(now: { clock.withLock { $0 } })
        )
        try await app.test(.router) { client in
            let started = try await start(client)
            clock.withLock { $0 = testNow.addingTimeInterval(601) }
            let response = try await client.execute(
                uri: try callbackURI(state: started.state, timestamp: 1_700_000_601), method: .get,
                headers: [.cookie: started.cookie])
            #expect(code(of: response) == "state_expired_or_used")
            #expect(
                response.headers[.setCookie]?.contains("Max-Age=0") == true, "a state that is gone takes its cookie")
        }
    }

    @Test func redirectURIOutsideTheAllowListIsNeverUsed() async throws {
        try await withTestApp(
            configuration: Self.configuration {
                $0.manifest?.allowedRedirectURIs = ["https://backend.example.com/install/callback/"]
            }
        ) { client in
            let response = try await client.execute(uri: "/install", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.location] == nil)
            #expect(code(of: response) == "redirect_uri_not_allowed")
        }
        try await withTestApp(
            configuration: Self.configuration {
                $0.appID = nil
                $0.install.installLink = nil
            }
        ) { client in
            let response = try await client.execute(uri: "/install", method: .get)
            #expect(code(of: response) == "install_not_configured")
        }
    }

    @Test func legacySignatureOnlyWhenEnabledAndASuccessURLWhenConfigured() async throws {
        @Sendable func legacyURI(_ state: String) throws -> String {
            // hex(HMAC-SHA256(app secret, account_id)), the blog's scheme, computed with swift-crypto directly.
            let code = HMAC<SHA256>.authenticationCode(
                for: Array("acct_1JSkf6FRwUQjTSJE".utf8), using: SymmetricKey(data: Array(appSecret.utf8)))
            let mac = code.map { String(format: "%02x", $0) }.joined()
            return
                "/install/callback?user_id=usr_1&account_id=acct_1JSkf6FRwUQjTSJE&state=\(state)&install_signature=\(mac)"
        }
        try await withTestApp(configuration: Self.configuration()) { client in
            let started = try await start(client)
            let response = try await client.execute(
                uri: try legacyURI(started.state), method: .get, headers: [.cookie: started.cookie])
            #expect(code(of: response) == "invalid_signature")
        }
        let configuration = try Self.configuration {
            $0.install.acceptsLegacySignatures = true
            $0.install.successURL = "https://app.example.com/stripe/connected"
        }
        try await withTestApp(configuration: configuration) { client in
            let started = try await start(client)
            let response = try await client.execute(
                uri: try legacyURI(started.state), method: .get, headers: [.cookie: started.cookie])
            #expect(response.status == .found)
            #expect(response.headers[.location] == "https://app.example.com/stripe/connected")
        }
    }
}
