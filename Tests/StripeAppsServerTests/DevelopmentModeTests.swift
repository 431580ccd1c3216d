import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StripeApps
import StripeAppsServer
import Testing

/// Development mode covers every surface: webhook endpoints without a secret get a local one kept in storage, and
/// with no install link the local stand-in marketplace and Dashboard run the whole install flow on one machine.
@Suite struct DevelopmentModeTests {
    /// No app secret, no webhook secrets, no install link: what `serve` runs with when unconfigured.
    static func unconfigured() -> AppConfiguration {
        AppConfiguration(port: 0, databaseURL: "sqlite::memory:")
    }

    static func signed(_ body: String, secret: String) throws -> HTTPFields {
        let header = SignatureSigner(keyring: try SigningKeyring(secrets: [secret]), now: { testNow })
            .signatureHeader(for: Array(body.utf8))
        return [.stripeSignature: header.headerValue, .contentType: "application/json"]
    }

    @Test func eachWebhookEndpointGetsItsOwnDevelopmentSecretKeptInStorage() async throws {
        let storage = InMemoryStorage()
        try await withTestApp(configuration: Self.unconfigured(), storage: storage) { client in
            // `serve` created them before it listened; reading now returns the same ones.
            let test = try await developmentWebhookSecret(for: .test, in: storage.metadata)
            let live = try await developmentWebhookSecret(for: .live, in: storage.metadata)
            #expect(test.hasPrefix("whsec_dev_") && test.count == "whsec_dev_".count + 64)
            #expect(live != test, "each endpoint has its own secret, as Stripe gives each its own")
            let body = WebhookRouteTests.event()
            let stored = try await client.execute(
                uri: "/webhooks/test", method: .post, headers: Self.signed(body, secret: test),
                body: ByteBuffer(string: body))
            #expect(stored.status == .ok, "\(stored.text)")
            let wrongEndpoint = try await client.execute(
                uri: "/webhooks/live", method: .post, headers: Self.signed(body, secret: test),
                body: ByteBuffer(string: body))
            #expect(wrongEndpoint.status == .unauthorized)
            #expect(wrongEndpoint.errorCode == "no_matching_signature")
            #expect(try await storage.inbox.events(status: nil, limit: 10).map(\.id) == ["evt_1"])
        }
    }

    @Test func aConfiguredWebhookSecretWinsAndProductionModeMakesNone() async throws {
        var configured = Self.unconfigured()
        configured.webhookSecretsTest = try SigningKeyring(secrets: [WebhookRouteTests.testSecret])
        let storage = InMemoryStorage()
        try await withTestApp(configuration: configured, storage: storage) { client in
            let body = WebhookRouteTests.event()
            let answer = try await client.execute(
                uri: "/webhooks/test", method: .post,
                headers: Self.signed(body, secret: WebhookRouteTests.testSecret), body: ByteBuffer(string: body))
            #expect(answer.status == .ok)
        }
        #expect(try await storage.metadata.value(forKey: developmentWebhookSecretKey(for: .test)) == nil)
        #expect(try await storage.metadata.value(forKey: developmentWebhookSecretKey(for: .live)) != nil)

        // With STRIPE_APP_SECRETS set, an endpoint without a secret answers 503 and nothing is generated.
        let production = InMemoryStorage()
        try await withTestApp(configuration: .testing(), storage: production) { client in
            let body = WebhookRouteTests.event()
            let answer = try await client.execute(
                uri: "/webhooks/test", method: .post, headers: Self.signed(body, secret: "whsec_anything"),
                body: ByteBuffer(string: body))
            #expect(answer.status == .serviceUnavailable)
            #expect(answer.errorCode == "webhook_not_configured")
            for path in ["/dev/marketplace", "/dev/dashboard/acct_dev/test/dashboard"] {
                #expect(try await client.execute(uri: path, method: .get).status == .notFound, "\(path)")
            }
        }
        for mode in [Tenant.Mode.live, .test] {
            #expect(try await production.metadata.value(forKey: developmentWebhookSecretKey(for: mode)) == nil)
        }
    }

    /// `/install` → the local marketplace → its signed redirect → the callback → the local Dashboard's deep link.
    @Test func theWholeInstallFlowRunsOnTheLocalStandIns() async throws {
        let storage = InMemoryStorage()
        try await withTestApp(configuration: Self.unconfigured(), storage: storage) { client in
            let started = try await client.execute(uri: "/install?mode=test", method: .get)
            #expect(started.status == .found)
            let marketplaceURL = try #require(started.headers[.location])
            let local = "http://127.0.0.1:0"
            #expect(marketplaceURL.hasPrefix(local + "/dev/marketplace?redirect_uri="), "\(marketplaceURL)")
            let cookie = try #require(started.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let marketplace = try await client.execute(uri: String(marketplaceURL.dropFirst(local.count)), method: .get)
            #expect(marketplace.status == .ok)
            #expect(marketplace.text.contains(#"data-code="local_marketplace""#))
            #expect(marketplace.headers[.contentSecurityPolicy]?.contains("form-action 'self'") == true)
            #expect(!marketplace.text.contains("<script"), "no script: the page works under its CSP")

            // The form, as a browser submits it: its hidden fields plus the account, user and mode.
            let fields = Self.hiddenFields(of: marketplace.text)
            #expect(fields["redirect_uri"] == local + "/install/callback")
            var form = URLComponents()
            form.queryItems =
                fields.map { URLQueryItem(name: $0, value: $1) } + [
                    .init(name: "account_id", value: "acct_dev"), .init(name: "user_id", value: "usr_dev"),
                    .init(name: "mode", value: "test"),
                ]
            let signed = try await client.execute(
                uri: "/dev/marketplace/install?" + (form.percentEncodedQuery ?? ""), method: .get)
            #expect(signed.status == .found)
            let callback = try #require(signed.headers[.location])
            #expect(callback.hasPrefix(local + "/install/callback?user_id=usr_dev&account_id=acct_dev&state="))
            #expect(callback.hasSuffix("&livemode=false"))
            // The signature is Stripe's scheme with the development app secret, checked independently.
            let query = try #require(URLComponents(string: callback)?.queryItems)
            func item(_ name: String) -> String? { query.first { $0.name == name }?.value }
            let secret = try await developmentSecret(in: storage.metadata)
            _ = try InstallSignatureVerifier(
                verifier: SignatureVerifier(keyring: try SigningKeyring(secrets: [secret]), now: { testNow })
            ).verify(
                installSignature: item("install_signature"),
                payload: InstallRedirectPayload(
                    state: try #require(item("state")), userID: "usr_dev", accountID: "acct_dev"))

            let finished = try await client.execute(
                uri: String(callback.dropFirst(local.count)), method: .get, headers: [.cookie: cookie])
            #expect(finished.status == .found, "\(finished.text)")
            let deepLink = try #require(finished.headers[.location])
            #expect(
                deepLink
                    == local + "/dev/dashboard/acct_dev/test/dashboard?apps[com.example.development][drawer]=onboarding"
            )
            let installed = try await storage.installations.installation(
                for: Tenant(accountID: "acct_dev", mode: .test))
            #expect(installed?.status == .active)

            // An install started for live mode finds live preselected, as the user would pick it.
            let live = try await client.execute(uri: "/install?mode=live", method: .get)
            let livePage = try await client.execute(
                uri: String(try #require(live.headers[.location]).dropFirst(local.count)), method: .get)
            #expect(livePage.text.contains(#"<option value="live" selected>"#))
            #expect(marketplace.text.contains(#"<option value="test" selected>"#))

            let dashboard = try await client.execute(uri: String(deepLink.dropFirst(local.count)), method: .get)
            #expect(dashboard.status == .ok)
            for shown in [
                "<dd data-account>acct_dev</dd>", "<dd data-mode>test</dd>", "<dd data-page>dashboard</dd>",
                "<dd data-view>app com.example.development in a drawer, viewport onboarding</dd>",
            ] {
                #expect(dashboard.text.contains(shown), "\(shown)")
            }
        }
    }

    @Test func theLocalMarketplaceSignsOnlyForThisBackendsCallbackAndValidIds() async throws {
        try await withTestApp(configuration: Self.unconfigured(), storage: InMemoryStorage()) { client in
            let state = String(repeating: "a", count: 64)
            func install(_ query: String) async throws -> TestResponse {
                try await client.execute(uri: "/dev/marketplace/install?" + query, method: .get)
            }
            let elsewhere = try await install(
                "redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=\(state)&account_id=acct_dev&user_id=usr_dev")
            #expect(elsewhere.status == .badRequest)
            #expect(elsewhere.text.contains(#"data-code="redirect_uri_not_allowed""#))
            #expect(elsewhere.headers[.location] == nil)
            let page = try await client.execute(
                uri: "/dev/marketplace?redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=\(state)", method: .get)
            #expect(page.status == .badRequest)
            let callback = "http%3A%2F%2F127.0.0.1%3A0%2Finstall%2Fcallback"
            let badAccount = try await install(
                "redirect_uri=\(callback)&state=\(state)&account_id=cus_1&user_id=usr_dev")
            #expect(badAccount.status == .badRequest)
            #expect(badAccount.text.contains(#"data-code="invalid_parameters""#))
            let noState = try await install("redirect_uri=\(callback)&account_id=acct_dev&user_id=usr_dev")
            #expect(noState.status == .badRequest)
            #expect(noState.text.contains(#"data-code="missing_parameters""#))
            // Markup in a parameter is escaped, never rendered.
            let markup = try await client.execute(
                uri: "/dev/marketplace?redirect_uri=\(callback)&state=%22%3E%3Cscript%3E", method: .get)
            #expect(markup.status == .ok)
            #expect(!markup.text.contains("\"><script>"))
        }
    }

    /// A ticket's install URL starts with the local address when `PUBLIC_URL` is not set.
    @Test func aTicketsInstallURLIsLocal() async throws {
        var configuration = Self.unconfigured()
        configuration.appServerToken = String(repeating: "t", count: 40)
        configuration.install.confirmURL = "http://127.0.0.1:3000/linked"
        try await withTestApp(configuration: configuration, storage: InMemoryStorage()) { client in
            let answer = try await client.execute(
                uri: "/install/tickets", method: .post,
                headers: [
                    .contentType: "application/json", .authorization: "Bearer " + String(repeating: "t", count: 40),
                ],
                body: ByteBuffer(string: #"{"app_user":"user-1","mode":"test"}"#))
            #expect(answer.status == .created)
            let url = try answer.json()["install_url"]?.stringValue
            #expect(url?.hasPrefix("http://127.0.0.1:0/install?ticket=") == true, "\(url ?? "-")")
        }
    }

    @Test func anAppIDOrInstallLinkTurnsTheStandInsOff() async throws {
        var configuration = Self.unconfigured()
        configuration.appID = "com.example.real"
        configuration.publicURL = "http://127.0.0.1:8080"
        configuration.install.redirectURI = "http://127.0.0.1:8080/install/callback"
        configuration.install.configuredRedirectURIs = ["http://127.0.0.1:8080/install/callback"]
        #expect(!configuration.usesLocalMarketplace)
        try await withTestApp(configuration: configuration, storage: InMemoryStorage()) { client in
            let started = try await client.execute(uri: "/install", method: .get)
            #expect(started.headers[.location]?.hasPrefix("https://marketplace.stripe.com/oauth/v2/authorize") == true)
            #expect(try await client.execute(uri: "/dev/marketplace", method: .get).status == .notFound)
        }
    }

    /// The hidden inputs of a form: name → value, unescaped.
    static func hiddenFields(of html: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in html.split(separator: "\n") where line.hasPrefix(#"<input type="hidden""#) {
            func attribute(_ name: String) -> String? {
                guard let start = line.range(of: name + #"=""#) else { return nil }
                return String(line[start.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(
                    of: "&amp;", with: "&")
            }
            if let name = attribute("name"), let value = attribute("value") { fields[name] = value }
        }
        return fields
    }
}
