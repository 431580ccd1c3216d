import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import StripeApps
import StripeAppsAPI
import StripeAppsServer
import StripeAppsTesting
import Synchronization
import Testing

/// Items of the hardening review: each of these failed before its fix.
@Suite struct HardeningTests {
    /// The log handler skips redaction for lines the one-pass check clears: that check never misses what the full
    /// scan (keys of every prefix and `v1=` signatures) would change, over 20,000 random texts made of pieces of
    /// secrets, signatures, look-alikes and noise.
    @Test func logRedactionsFastCheckNeverMissesASignatureOrKey() {
        let pieces = [
            "sk_", "rk_", "rt_", "ac_", "whsec_", "absec_", "live_", "test_", "v1=", "v1", "=", "_", "s", "k", "e", "c",
            "0123456789abcdef", "ABCDEF", " ", ",", "\"", "é", "spec_", "t=1700000000", "****", "x",
        ]
        var generator = SystemRandomNumberGenerator()
        var changed = 0
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }.joined()
            let scanned = LogRedaction.redactScanning(text)
            #expect(LogRedaction.redact(text) == scanned, "the check changes nothing the scan would do")
            if scanned != text {
                changed += 1
                #expect(CredentialRedaction.mayNeedRedaction(text), "missed: \(text)")
            }
        }
        #expect(changed > 100)
    }

    /// Two `Stripe-Signature` lines would be joined with a comma by HTTP, and a second `t=` would slip past the
    /// one-timestamp rule: refused with 400 on the webhook and the UI routes, and nothing is stored.
    @Test func aRepeatedSignatureHeaderLineIsRefused() async throws {
        let store = InMemoryStorage()
        try await withTestApp(configuration: WebhookRouteTests.configuration(), storage: store) { client in
            let body = WebhookRouteTests.event()
            let good = try #require(try WebhookRouteTests.signed(body)[.stripeSignature])
            var headers: HTTPFields = [.contentType: "application/json"]
            headers.append(HTTPField(name: .stripeSignature, value: good))
            headers.append(HTTPField(name: .stripeSignature, value: "t=1"))
            let webhook = try await client.execute(
                uri: "/webhooks/test", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(webhook.status == .badRequest)
            #expect(webhook.errorCode == "duplicate_signature_header")
            #expect(try await store.inbox.events(status: nil, limit: 10).isEmpty)

            var signed = try signer.post(userID: "usr_1", accountID: "acct_1")
            let value = try #require(signed.headers[.stripeSignature])
            signed.headers.append(HTTPField(name: .stripeSignature, value: value))
            let ui = try await client.execute("/api/whoami", .post, signed)
            #expect(ui.status == .badRequest)
            #expect(ui.errorCode == "duplicate_signature_header")
        }
    }

    /// Every response says `nosniff`, errors and unknown routes included; HTML pages may not be framed.
    @Test func everyResponseForbidsSniffingAndPagesForbidFraming() async throws {
        try await withTestApp { client in
            let answers = [
                try await client.execute(uri: "/healthz", method: .get),
                try await client.execute(uri: "/no/such/route", method: .get),
                try await client.execute(uri: "/webhooks/test", method: .post, body: ByteBuffer(string: "{}")),
                try await client.execute("/api/whoami", .post, signer.post(userID: "usr_1", accountID: "acct_1")),
                try await client.execute(uri: "/api/whoami", method: .options),
            ]
            for answer in answers {
                #expect(answer.headers[.xContentTypeOptions] == "nosniff", "\(answer.status)")
            }
            let page = try await client.execute(uri: "/install/callback?error=access_denied", method: .get)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
        }
    }

    /// A correctly signed payload with ids or roles no Dashboard would send, or an extra key `state` (whose
    /// signature would be an install redirect's), is refused with 400 and a stable code before any route runs;
    /// GETs, whose ids travel in headers, included. Nothing is stored.
    @Test func authenticPayloadsOfTheWrongShapeAreRefused() async throws {
        let store = InMemoryStorage()
        try await withTestApp(storage: store) { client in
            let long = String(repeating: "9", count: 256)
            let cases: [(String, SignedUIRequest)] = [
                ("invalid_account_id", try signer.post(userID: "usr_1", accountID: "", mode: .test)),
                ("invalid_account_id", try signer.post(userID: "usr_1", accountID: "acct_", mode: .test)),
                ("invalid_account_id", try signer.post(userID: "usr_1", accountID: "acct_" + long, mode: .test)),
                ("invalid_account_id", try signer.post(userID: "usr_1", accountID: "cus_1", mode: .test)),
                ("invalid_account_id", try signer.post(userID: "usr_1", accountID: "acct_1/../2", mode: .test)),
                ("invalid_account_id", try signer.post(userID: "usr_1", accountID: "acct_é", mode: .test)),
                ("invalid_user_id", try signer.post(userID: "u", accountID: "acct_1", mode: .test)),
                ("invalid_user_id", try signer.post(userID: "usr_1 ", accountID: "acct_1", mode: .test)),
                ("invalid_user_id", try signer.get(userID: "usr_", accountID: "acct_1", mode: .test)),
                ("invalid_account_id", try signer.get(userID: "usr_1", accountID: "acct_1;x", mode: .test)),
                (
                    "reserved_key",
                    try signer.post(
                        userID: "usr_1", accountID: "acct_1", mode: .test, extra: [PayloadField("state", .string("s"))])
                ),
                (
                    "invalid_roles",
                    signer.post(
                        rawBody: Array(
                            #"{"stripe_roles":"Administrator","user_id":"usr_1","account_id":"acct_1"}"#.utf8))
                ),
                (
                    "invalid_roles",
                    signer.post(
                        rawBody: Array(
                            #"{"stripe_roles":[{"name":"Administrator"}],"user_id":"usr_1","account_id":"acct_1"}"#.utf8
                        ))
                ),
                (
                    "invalid_roles",
                    signer.post(
                        rawBody: Array(
                            #"{"stripe_roles":[{"type":"builtIn","name":""}],"user_id":"usr_1","account_id":"acct_1"}"#
                                .utf8))
                ),
                (
                    "invalid_roles",
                    try signer.post(
                        userID: "usr_1", accountID: "acct_1",
                        roles: Array(repeating: .custom("a"), count: UIRequestPayload.maximumRoles + 1))
                ),
                (
                    "invalid_roles",
                    try signer.post(
                        userID: "usr_1", accountID: "acct_1", roles: [.builtIn(String(repeating: "x", count: 256))])
                ),
            ]
            for (code, request) in cases {
                let method: HTTPRequest.Method = request.body == nil ? .get : .post
                let response = try await client.execute("/api/settings", method, request)
                #expect(response.status == .badRequest, "\(code)")
                #expect(response.errorCode == code)
            }
            // The longest and shortest valid ids and well-formed roles pass.
            let edge = try signer.post(
                userID: "usr_" + long.dropFirst(), accountID: "acct_1", mode: .test,
                roles: [.builtIn("Administrator"), .custom("Support_agent")])
            #expect(try await client.execute("/api/whoami", .post, edge).status == .ok)
            #expect(try await store.settings.settings(for: Tenant(accountID: "acct_1", mode: .test)) == .empty)
        }
    }

    /// A settings write captured while the app was installed, replayed after the uninstall purged the tenant's
    /// data, is refused and recreates nothing; an app's own route is refused the same way; whoami still answers
    /// with the status. A request that signed no mode passes when the account is installed in some mode.
    @Test func tenantRoutesNeedAnActiveInstallation() async throws {
        let store = InMemoryStorage()
        let tenant = Tenant(accountID: "acct_1", mode: .test)
        let report: @Sendable (RouterGroup<VerifiedRequestContext>) -> Void = { api in
            api.post("report") { _, _ in "ok" }
        }
        try await withTestApp(storage: store, configureAPI: report) { client in
            let write = try signer.post(
                userID: "usr_1", accountID: "acct_1", mode: .test,
                extra: [PayloadField("version", .number(0)), PayloadField("theme", .string("dark"))])
            let before = try await client.execute("/api/settings", .post, write)
            #expect(before.status == .forbidden)
            #expect(before.errorCode == "not_installed")

            try await install(tenant, in: store)
            #expect(try await client.execute("/api/settings", .post, write).status == .ok)
            let unsignedMode = try signer.post(userID: "usr_1", accountID: "acct_1")
            #expect(try await client.execute("/api/report", .post, unsignedMode).status == .ok)
            let liveReport = try signer.post(userID: "usr_1", accountID: "acct_1", mode: .live)
            #expect(try await client.execute("/api/report", .post, liveReport).errorCode == "not_installed")

            _ = try await store.installations.apply(
                InstallationChange(
                    tenant: tenant, action: .deactivate,
                    source: .event(type: "account.application.deauthorized", id: "evt_1"),
                    occurredAt: testNow.addingTimeInterval(1), recordedAt: testNow.addingTimeInterval(1)))
            #expect(try await store.settings.settings(for: tenant) == .empty)
            let replay = try await client.execute("/api/settings", .post, write)
            #expect(replay.status == .forbidden)
            #expect(replay.errorCode == "not_installed")
            #expect(try await store.settings.settings(for: tenant) == .empty, "nothing recreated")
            #expect(try await client.execute("/api/report", .post, unsignedMode).errorCode == "not_installed")
            let whoami = try await client.execute(
                "/api/whoami", .post, signer.post(userID: "usr_1", accountID: "acct_1", mode: .test))
            #expect(try whoami.json()["installation"]?["status"] == .string("inactive"))
        }
    }

    /// Item 15: at trace level, through every surface (signed calls, webhooks whose handler fails with an error
    /// that quotes keys, install callbacks carrying a code, a state and a signature in their query), no secret,
    /// key, token, code, state or signature reaches a log line, and none reaches the inbox's stored error.
    @Test func noSecretCodeStateOrSignatureReachesLogsOrStoredErrors() async throws {
        let sink = LogSink()
        var logger = Logger(label: "test") { _ in RedactingLogHandler(CapturingLogHandler(sink: sink)) }
        logger.logLevel = .trace
        let secretKey = "sk_test_51HiddenKeyValue0123456789"
        let refreshToken = "rt_HiddenRefreshToken0123456789"
        var handlers = EventHandlers()
        handlers.on("invoice.paid") { _ in
            struct LeakyError: Error, CustomStringConvertible {
                let description: String
            }
            throw LeakyError(
                description: "upstream refused \(secretKey) and \(refreshToken) (whsec_leaked0123456789abcdef)")
        }
        let store = InMemoryStorage()
        var configuration = try InstallRouteTests.configuration()
        configuration.webhookSecretsTest = try SigningKeyring(secrets: [WebhookRouteTests.testSecret])
        configuration.appServerToken = InstallTicketTests.token
        configuration.install.confirmURL = InstallTicketTests.confirmURL
        let app = try buildApplication(
            configuration: configuration, storage: store, logger: logger,
            hooks: ApplicationHooks(now: { testNow }, eventHandlers: handlers))
        let oneTimeValues = Mutex<[String]>([])
        let code = "ac_SecretAuthorizationCode0123"
        let state = "StateValueThatMustNotBeLogged0123"
        let installSignature = "t=1700000000,v1=" + String(repeating: "ab", count: 32)
        let macs = Mutex<[String]>([])
        try await app.test(.router) { client in
            let signed = try signer.post(userID: "usr_1", accountID: "acct_1", mode: .test)
            let uiMAC = String(try #require(signed.headers[.stripeSignature]).split(separator: "=").last ?? "")
            macs.withLock { $0.append(uiMAC) }
            _ = try await client.execute("/api/whoami", .post, signed)
            let body =
                #"{"id":"evt_leak","object":"event","created":1700000000,"livemode":false,"type":"invoice.paid","account":"acct_1","data":{"object":{}}}"#
            let headers = try WebhookRouteTests.signed(body)
            let webhookMAC = String(try #require(headers[.stripeSignature]).split(separator: "=").last ?? "")
            macs.withLock { $0.append(webhookMAC) }
            _ = try await client.execute(
                uri: "/webhooks/test", method: .post, headers: headers, body: ByteBuffer(string: body))
            _ = await sink.line(containing: "event handler failed")
            let query =
                "code=\(code)&state=\(state)&install_signature=\(installSignature)&user_id=usr_1&account_id=acct_1"
            _ = try await client.execute(
                uri: "/install/callback?" + query, method: .get, headers: [.cookie: "stripe_apps_install=\(state)"])
            _ = try await client.execute(uri: "/install?" + query, method: .get)
            // An install with a ticket: the app server's token, the ticket and the link code stay out of the log.
            let tickets = InstallTicketTests()
            let ticket = try await tickets.ticket(client, for: "user-logged")
            let code = try tickets.linkCode(of: try await tickets.install(client, ticket: ticket))
            _ = try await tickets.post(client, "/install/links", #"{"link_code":"\#(code)","app_user":"user-logged"}"#)
            oneTimeValues.withLock { $0 += [ticket, code] }
        }
        let stored = try #require(try await store.inbox.events(status: .failed, limit: 1).first)
        let lastError = try #require(stored.lastError)
        #expect(lastError.contains("sk_test_[redacted]"), "\(lastError)")
        let logs = sink.all
        #expect(logs.contains("/install/callback"), "the path is logged")
        #expect(logs.contains("event handler failed"))
        #expect(logs.contains("install linked to an app user"))
        for text in [logs, lastError] {
            for secret in [
                appSecret, WebhookRouteTests.testSecret, secretKey, refreshToken, "whsec_leaked", code, state,
                String(repeating: "ab", count: 32), InstallTicketTests.token,
            ] + macs.withLock({ $0 }) + oneTimeValues.withLock({ $0 }) {
                #expect(!text.contains(secret), "\(secret.prefix(12))… leaked")
            }
        }
    }

    /// Item 15: rejections of anonymous traffic are sampled, ten per kind per window, and the next line after a
    /// window says how many were left out.
    @Test func rejectionLogLinesAreSampled() async throws {
        let sink = LogSink()
        let start = ContinuousClock.now
        try await withTestApp(logger: sink.logger) { client in
            let forged = try UIExtensionSigner(secrets: ["absec_forger"], now: { testNow })
            for _ in 0..<50 {
                let response = try await client.execute(
                    "/api/whoami", .post, forged.post(userID: "usr_1", accountID: "acct_1"))
                #expect(response.status == .unauthorized)
            }
        }
        // The server's sampler runs on the real clock: a loaded machine may take more than one 10 s window.
        let windows = Int((ContinuousClock.now - start) / .seconds(10)) + 1
        let rejected = sink.all.split(separator: "\n").filter { $0.contains("rejected signed request") }
        #expect(rejected.count >= 10 && rejected.count <= 10 * windows, "\(rejected.count) lines in \(windows) windows")
        if windows == 1 { #expect(rejected.count == 10) }

        let instant = Mutex(ContinuousClock.now)
        let sampler = LogSampler(burst: 2, window: .seconds(10), now: { instant.withLock { $0 } })
        let lines = LogSink()
        for _ in 0..<5 { sampler.log(lines.logger, .info, "rejected webhook", code: "no_matching_signature") }
        sampler.log(lines.logger, .info, "rejected webhook", code: "malformed_header")
        instant.withLock { $0 += .seconds(11) }
        sampler.log(lines.logger, .info, "rejected webhook", code: "no_matching_signature")
        let written = lines.all.split(separator: "\n")
        #expect(written.count == 4, "two, another kind, then the first of the next window")
        #expect(written.last?.contains(#""log.suppressed": 3"#) == true, "\(written.last ?? "")")
    }

    /// Item 15: a key or signature in a log message or metadata is redacted by the handler, whatever logs it.
    @Test func theLogHandlerRedactsKeysAndSignatures() {
        let sink = LogSink()
        var logger = Logger(label: "test") { _ in RedactingLogHandler(CapturingLogHandler(sink: sink)) }
        logger[metadataKey: "context"] = "absec_contextsecret0123456789"
        logger.info(
            // Split so that no committed string is shaped like a live key.
            "calling with \("sk_" + "live_0123456789abcdefXYZ")",
            metadata: ["header": "t=1,v1=\(String(repeating: "0f", count: 32))", "nested": ["rk_test_abcdefghijkl"]])
        let line = sink.all
        #expect(line.contains("sk_live_[redacted]") && line.contains("rk_test_[redacted]"), "\(line)")
        #expect(line.contains("absec_[redacted]") && line.contains("v1=[redacted]"), "\(line)")
        for leaked in ["0123456789abcdefXYZ", "abcdefghijkl", "contextsecret", String(repeating: "0f", count: 32)] {
            #expect(!line.contains(leaked))
        }
    }

    /// Item 7: `/install` and `/install/callback` take at most INSTALL_RATE_LIMIT_PER_MINUTE requests a minute per
    /// client address (429 with Retry-After, nothing stored); behind a proxy, the last entry of the configured
    /// header is the client, so a client cannot pick its own bucket by sending the header itself.
    @Test func installRoutesAreRateLimitedPerClientAddress() async throws {
        let store = InMemoryStorage()
        var configuration = try InstallRouteTests.configuration()
        configuration.installRateLimitPerMinute = 3
        configuration.clientAddressHeader = "X-Forwarded-For"
        try await withTestApp(configuration: configuration, storage: store) { client in
            func install(from address: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/install", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: address])
            }
            for attempt in 0..<3 {
                // A spoofed first entry changes nothing: the proxy's (last) entry is the client.
                #expect(try await install(from: "6.6.6.\(attempt), 203.0.113.7").status == .found)
            }
            let limited = try await install(from: "9.9.9.9, 203.0.113.7")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 && $0 <= 20 } == true)
            #expect(limited.text.contains("rate_limited"))
            let callback = try await client.execute(
                uri: "/install/callback?state=x", method: .get,
                headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.7"])
            #expect(callback.status == .tooManyRequests)
            #expect(try await install(from: "198.51.100.1").status == .found, "another client has its own bucket")
        }
        // Three plus one states stored: the refused requests stored nothing.
        #expect(try await store.installStates.deleteExpired(now: .distantFuture) == 4)
    }

    /// The application's limiters run on its clock (a test that fixes it fixes the refill); a wall clock that
    /// steps back refills nothing and takes nothing away.
    @Test func theRateLimiterOnTheApplicationClockIgnoresASteppedBackClock() {
        let date = Mutex(testNow)
        let limiter = ClientRateLimiter(perMinute: 60, date: { date.withLock { $0 } })
        for _ in 0..<60 { #expect(limiter.take("a") == nil) }
        #expect(limiter.take("a") == .seconds(1))
        date.withLock { $0 -= 3600 }
        #expect(limiter.take("a") == .seconds(1), "an hour back refills nothing")
        date.withLock { $0 += 1 }
        #expect(limiter.take("a") == nil, "a second after the step, one request is back")
        #expect(limiter.take("a") != nil)
    }

    /// Item 7: the bucket refills evenly, a minute's worth at most.
    @Test func theRateLimiterRefillsEvenly() {
        let instant = Mutex(ContinuousClock.now)
        let limiter = ClientRateLimiter(perMinute: 60, maximumClients: 2, now: { instant.withLock { $0 } })
        for _ in 0..<60 { #expect(limiter.take("a") == nil) }
        #expect(limiter.take("a") == .seconds(1))
        instant.withLock { $0 += .seconds(2) }
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") != nil)
        // A full table forgets the client seen longest ago, which starts again with a full bucket.
        instant.withLock { $0 += .milliseconds(1) }
        #expect(limiter.take("b") == nil)
        instant.withLock { $0 += .milliseconds(1) }
        #expect(limiter.take("c") == nil)
        #expect(limiter.take("a") == nil)
    }
}
