import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import StripeApps
import StripeAppsServer
import Testing

/// The admin page over the real application and in-memory storage: fail closed, sessions, CSRF, read-only
/// sessions, rate limits, headers, escaping, and the actions.
@Suite struct AdminRouteTests {
    static let token = "admin-token-0123456789abcdef0123456789"
    static let readOnlyToken = "readonly-token-0123456789abcdef012345"

    static func configuration(rateLimit: Int = 100, publicURL: String? = nil) throws -> AppConfiguration {
        var configuration = try AppConfiguration.testing()
        configuration.publicURL = publicURL
        configuration.admin = AdminConfiguration(token: token, readOnlyToken: readOnlyToken)
        configuration.admin.loginRateLimitPerMinute = rateLimit
        return configuration
    }

    static func dead(_ id: String, type: String = "customer.created", payload: String? = nil) -> InboxEvent {
        InboxEvent(
            id: id, type: type, isLiveMode: false, accountID: "acct_admin", created: 1_700_000_000,
            receivedAt: testNow, status: .dead, attempts: 3, payload: payload ?? #"{"id":"\#(id)","object":"event"}"#,
            lastError: "handler failed: boom")
    }

    /// The application with `storage`, a clock tests can move, and a client logged in by `logIn`.
    static func withAdmin(
        configuration: AppConfiguration? = nil,
        storage: InMemoryStorage = InMemoryStorage(),
        clock: TestClock = TestClock(),
        logger: Logger? = nil,
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let configuration = try configuration ?? Self.configuration()
        let now: @Sendable () -> Date = { clock.withLock { $0 } }
        // The application's job worker runs on a storage of its own: a job these tests cancel and replay
        // stays as the admin page left it instead of being claimed (and failed, as no type is registered)
        // by a worker that happens to poll between the action and the check.
        let idleWorker = jobWorker(
            configuration: configuration, storage: InMemoryStorage(), registry: JobRegistry(), now: now,
            logger: logger ?? Logger(label: "test"))
        let app = try buildApplication(
            configuration: configuration, storage: storage, logger: logger,
            hooks: ApplicationHooks(now: now, jobWorker: idleWorker))
        try await app.test(.router, body)
    }

    static func read(_ values: [String: String]) throws -> AppConfiguration {
        try AppConfiguration(
            reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values)))
    }

    @Test func adminSettingsAreReadAndCheckedWithoutQuotingTokens() throws {
        let read = try Self.read([
            "ADMIN_TOKEN": Self.token, "ADMIN_READONLY_TOKEN": Self.readOnlyToken, "ADMIN_SESSION_SECONDS": "600",
            "ADMIN_LOGIN_RATE_LIMIT_PER_MINUTE": "5",
        ])
        #expect(read.admin.token == Self.token)
        #expect(read.admin.readOnlyToken == Self.readOnlyToken)
        #expect(read.admin.sessionSeconds == 600)
        #expect(read.admin.loginRateLimitPerMinute == 5)
        #expect(try Self.read([:]).admin.isEnabled == false)
        for (values, variable) in [
            (["ADMIN_TOKEN": Self.token, "ADMIN_READONLY_TOKEN": Self.token], "ADMIN_READONLY_TOKEN"),
            (["ADMIN_TOKEN": "has a space"], "ADMIN_TOKEN"), (["ADMIN_SESSION_SECONDS": "5"], "ADMIN_SESSION_SECONDS"),
            (["ADMIN_LOGIN_RATE_LIMIT_PER_MINUTE": "0"], "ADMIN_LOGIN_RATE_LIMIT_PER_MINUTE"),
        ] {
            let error = #expect(throws: ConfigurationError.self) { try Self.read(values) }
            #expect(error?.variable == variable)
            #expect(error?.description.contains(Self.token) == false)
        }
    }

    @Test func everyAdminPathIsA404WithoutAdminToken() async throws {
        try await withTestApp { client in
            for (uri, method) in [
                ("/admin", HTTPRequest.Method.get), ("/admin/login", .get), ("/admin/login", .post),
                ("/admin/inbox", .get), ("/admin/assets/admin.css", .get),
            ] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .notFound, "\(method) \(uri)")
                #expect(response.errorCode == "not_found")
            }
        }
    }

    @Test func aWrongTokenIsRefusedAndTheRightOneOpensAStrictHttpOnlySession() async throws {
        try await Self.withAdmin { client in
            let page = try await client.execute(uri: "/admin/login", method: .get)
            #expect(page.status == .ok)
            #expect(page.text.contains("name=\"token\""))
            let wrong = try await client.logIn("not-the-token")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.setCookie] == nil)
            #expect(wrong.text.contains("data-code=\"login_refused\""))
            #expect(!wrong.text.contains("not-the-token"), "the page never echoes what was typed")
            let right = try await client.logIn(Self.token)
            #expect(right.status == .seeOther)
            #expect(right.headers[.location] == "/admin")
            let cookie = try #require(right.headers[.setCookie])
            #expect(cookie.hasPrefix("stripe_apps_admin=v1.admin."))
            for attribute in ["HttpOnly", "SameSite=Strict", "Max-Age=28800", "Path=/"] {
                #expect(cookie.contains(attribute), "\(attribute) in \(cookie)")
            }
            #expect(!cookie.contains("Secure"), "plain http: a Secure cookie would never come back")
            #expect(!cookie.contains(Self.token))
            let overview = try await client.execute(
                uri: "/admin", method: .get, headers: [.cookie: try #require(right.sessionCookie)])
            #expect(overview.status == .ok)
            #expect(overview.text.contains("data-code=\"overview\""))
            #expect(overview.text.contains("admin session"))
        }
    }

    @Test func overHTTPSTheCookieIsSecureWithTheHostPrefix() async throws {
        let configuration = try Self.configuration(publicURL: "https://backend.example.com")
        try await Self.withAdmin(configuration: configuration) { client in
            let response = try await client.logIn(Self.token, origin: "https://backend.example.com")
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("__Host-stripe_apps_admin="))
            #expect(cookie.contains("Secure"))
            // A form from another origin is refused, even with the right token.
            let foreign = try await client.logIn(Self.token, origin: "https://evil.example.com")
            #expect(foreign.status == .forbidden)
            #expect(foreign.headers[.setCookie] == nil)
        }
    }

    @Test func withoutASessionPagesSendToTheLoginAndActionsChangeNothing() async throws {
        let storage = InMemoryStorage()
        _ = try await storage.inbox.enqueue(Self.dead("evt_locked"))
        try await Self.withAdmin(storage: storage) { client in
            for uri in ["/admin", "/admin/inbox", "/admin/events/evt_locked", "/admin/jobs", "/admin/installations"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .seeOther, "\(uri)")
                #expect(response.headers[.location] == "/admin/login")
            }
            let forged =
                "stripe_apps_admin=v1.admin.00112233445566778899aabbccddeeff.9999999999.\(String(repeating: "0", count: 64))"
            for headers: HTTPFields in [[:], [.cookie: forged]] {
                let replay = try await client.execute(
                    uri: "/admin/events/evt_locked/replay", method: .post, headers: headers.form,
                    body: .init(string: "csrf=x"))
                #expect(replay.status == .forbidden)
                #expect(replay.text.contains("data-code=\"session_required\""))
            }
        }
        #expect(try await storage.admin.event(id: "evt_locked")?.status == .dead)
    }

    @Test func aSessionExpiresAndLogoutEndsIt() async throws {
        let clock = TestClock()
        try await Self.withAdmin(clock: clock) { client in
            let session = try await client.session(Self.token)
            #expect(
                try await client.execute(uri: "/admin", method: .get, headers: [.cookie: session.cookie]).status == .ok)
            clock.withLock { $0 = $0.addingTimeInterval(28_801) }
            let expired = try await client.execute(uri: "/admin", method: .get, headers: [.cookie: session.cookie])
            #expect(expired.status == .seeOther)

            let fresh = try await client.session(Self.token)
            let logout = try await client.execute(
                uri: "/admin/logout", method: .post,
                headers: HTTPFields([HTTPField(name: .cookie, value: fresh.cookie)]).form,
                body: .init(string: "csrf=\(fresh.csrf)"))
            #expect(logout.status == .seeOther)
            #expect(logout.headers[.location] == "/admin/login")
            #expect(logout.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.execute(uri: "/admin", method: .get, headers: [.cookie: fresh.cookie])
            #expect(after.status == .seeOther, "a logged-out cookie is refused")
        }
    }

    @Test func aPostWithoutTheSessionsCSRFTokenOrFromAnotherSiteChangesNothing() async throws {
        let storage = InMemoryStorage()
        _ = try await storage.inbox.enqueue(Self.dead("evt_csrf"))
        try await Self.withAdmin(storage: storage) { client in
            let session = try await client.session(Self.token)
            let other = try await client.session(Self.token)
            let cases: [(HTTPFields, String, String)] = [
                ([.cookie: session.cookie], "", "csrf_token_invalid"),
                ([.cookie: session.cookie], "csrf=\(String(repeating: "a", count: 64))", "csrf_token_invalid"),
                ([.cookie: session.cookie], "csrf=\(other.csrf)", "csrf_token_invalid"),
                ([.cookie: session.cookie, .secFetchSite: "cross-site"], "csrf=\(session.csrf)", "cross_site_request"),
                (
                    [.cookie: session.cookie, .origin: "http://evil.example"], "csrf=\(session.csrf)",
                    "cross_site_request"
                ),
                ([.cookie: session.cookie, .origin: "null"], "csrf=\(session.csrf)", "cross_site_request"),
            ]
            for (headers, body, code) in cases {
                for action in ["replay", "discard"] {
                    let response = try await client.execute(
                        uri: "/admin/events/evt_csrf/\(action)", method: .post, headers: headers.form,
                        body: .init(string: body))
                    #expect(response.status == .forbidden, "\(headers) \(body)")
                    #expect(response.text.contains("data-code=\"\(code)\""), "\(headers) \(body)")
                }
            }
        }
        let event = try await storage.admin.event(id: "evt_csrf")
        #expect(event?.status == .dead)
        #expect(event?.isPruned == false)
    }

    @Test func aReadOnlySessionSeesEverythingAndChangesNothing() async throws {
        let storage = InMemoryStorage()
        _ = try await storage.inbox.enqueue(Self.dead("evt_ro"))
        try await Self.withAdmin(storage: storage) { client in
            let session = try await client.session(Self.readOnlyToken)
            for uri in ["/admin", "/admin/inbox", "/admin/events/evt_ro", "/admin/jobs", "/admin/installations"] {
                let page = try await client.execute(uri: uri, method: .get, headers: [.cookie: session.cookie])
                #expect(page.status == .ok, "\(uri)")
                #expect(page.text.contains("(read-only)"))
                #expect(!page.text.contains("id=\"replay\""), "no action button for a read-only session")
            }
            for uri in ["/admin/events/evt_ro/replay", "/admin/events/evt_ro/discard", "/admin/inbox/bulk-replay"] {
                let response = try await client.execute(
                    uri: uri, method: .post,
                    headers: HTTPFields([HTTPField(name: .cookie, value: session.cookie)]).form,
                    body: .init(string: "csrf=\(session.csrf)&status=dead"))
                #expect(response.status == .forbidden, "\(uri)")
                #expect(response.text.contains("data-code=\"read_only_session\""))
            }
            let logout = try await client.execute(
                uri: "/admin/logout", method: .post,
                headers: HTTPFields([HTTPField(name: .cookie, value: session.cookie)]).form,
                body: .init(string: "csrf=\(session.csrf)"))
            #expect(logout.status == .seeOther, "a read-only session may log out")
        }
        #expect(try await storage.admin.event(id: "evt_ro")?.status == .dead)
    }

    @Test func loginAttemptsAreRateLimitedPerClient() async throws {
        try await Self.withAdmin(configuration: try Self.configuration(rateLimit: 3)) { client in
            for _ in 0..<3 { #expect(try await client.logIn("wrong").status == .unauthorized) }
            let limited = try await client.logIn(Self.token)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(limited.headers[.setCookie] == nil, "the right token is refused too while limited")
            #expect(limited.text.contains("data-code=\"rate_limited\""))
        }
    }

    @Test func adminResponsesCarryTheCSPAndNeverCORS() async throws {
        try await Self.withAdmin { client in
            let session = try await client.session(Self.token)
            for (uri, method, headers) in [
                ("/admin/login", HTTPRequest.Method.get, HTTPFields()), ("/admin", .get, [.cookie: session.cookie]),
                ("/admin/events/evt_none", .get, [.cookie: session.cookie]),
                ("/admin/inbox?status=bogus", .get, [.cookie: session.cookie]),
                ("/admin/assets/admin.css", .get, [:]), ("/admin/login", .options, [:]), ("/admin", .options, [:]),
            ] {
                var headers = headers
                headers[.origin] = "null"
                headers[.accessControlRequestMethod] = "POST"
                let response = try await client.execute(uri: uri, method: method, headers: headers)
                #expect(response.headers[.accessControlAllowOrigin] == nil, "\(method) \(uri)")
                #expect(response.headers[.accessControlAllowMethods] == nil, "\(method) \(uri)")
                if method == .get {
                    let csp = try #require(response.headers[.contentSecurityPolicy], "\(uri)")
                    #expect(csp.contains("default-src 'none'") && csp.contains("style-src 'self'"))
                    #expect(!csp.contains("unsafe-inline") && !csp.contains("script-src"))
                    #expect(response.headers[.cacheControl] == "no-store")
                    #expect(response.status.code < 500, "\(uri)")
                }
            }
            let css = try await client.execute(uri: "/admin/assets/admin.css", method: .get)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
            // Nothing on any page loads from another origin, and no page has a script or an inline style.
            let overview = try await client.execute(uri: "/admin", method: .get, headers: [.cookie: session.cookie])
            #expect(!overview.text.contains("<script"))
            #expect(!overview.text.contains("style="))
            #expect(!overview.text.contains("http://") && !overview.text.contains("https://"))
        }
    }

    @Test func hostileEventTypesPayloadsAndErrorsAreEscaped() async throws {
        let storage = InMemoryStorage()
        let hostile = "<script>alert(1)</script>"
        var event = Self.dead(
            "evt_<b>x</b>", type: hostile, payload: #"{"id":"evt_x","note":"</pre><script>alert(2)</script>"}"#)
        event.lastError = "failed: <img src=x onerror=alert(3)>"
        _ = try await storage.inbox.enqueue(event)
        try await Self.withAdmin(storage: storage) { client in
            let session = try await client.session(Self.token)
            for uri in [
                "/admin/inbox", "/admin/events/evt_%3Cb%3Ex%3C%2Fb%3E", "/admin",
                "/admin/installations/test/acct_admin",
                "/admin/inbox?type=%3Cscript%3E",
            ] {
                let page = try await client.execute(uri: uri, method: .get, headers: [.cookie: session.cookie])
                #expect(page.status == .ok, "\(uri)")
                #expect(!page.text.contains("<script"), "\(uri)")
                #expect(!page.text.contains("<img"), "\(uri)")
                #expect(!page.text.contains("<b>"), "\(uri)")
            }
            let detail = try await client.execute(
                uri: "/admin/events/evt_%3Cb%3Ex%3C%2Fb%3E", method: .get, headers: [.cookie: session.cookie])
            #expect(detail.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(detail.text.contains("&lt;/pre&gt;&lt;script&gt;alert(2)"))
            #expect(detail.text.contains("  &quot;note&quot;: "), "the payload is pretty-printed")
        }
    }

    @Test func replayAndDiscardFromTheEventPage() async throws {
        let storage = InMemoryStorage()
        _ = try await storage.inbox.enqueue(Self.dead("evt_replay"))
        _ = try await storage.inbox.enqueue(Self.dead("evt_discard"))
        try await Self.withAdmin(storage: storage) { client in
            let session = try await client.session(Self.token)
            let page = try await client.execute(
                uri: "/admin/events/evt_replay", method: .get, headers: [.cookie: session.cookie])
            #expect(page.text.contains("id=\"replay\""))
            #expect(page.text.contains("handler failed: boom"))
            let replayed = try await client.post("/admin/events/evt_replay/replay", session)
            #expect(replayed.status == .seeOther)
            #expect(replayed.headers[.location] == "/admin/events/evt_replay?notice=replayed")
            #expect(try await storage.admin.event(id: "evt_replay")?.status != .dead)

            let discarded = try await client.post("/admin/events/evt_discard/discard", session)
            #expect(discarded.headers[.location] == "/admin/events/evt_discard?notice=discarded")
            #expect(try await storage.admin.event(id: "evt_discard")?.isDiscarded == true)
            let again = try await client.post("/admin/events/evt_discard/replay", session)
            #expect(again.status == .conflict)
            #expect(again.text.contains("data-code=\"not_replayable\""))
            let missing = try await client.post("/admin/events/evt_missing/discard", session)
            #expect(missing.status == .notFound)
            let audit = try await storage.credentials.auditRecords(for: Tenant(accountID: "acct_admin", mode: .test))
            #expect(audit.map(\.action) == ["admin_replayed", "admin_discarded"])
            #expect(audit.allSatisfy { $0.reason.contains("by admin session ") })
        }
    }

    @Test func bulkReplayReplaysAtMostOneThousand() async throws {
        let storage = InMemoryStorage()
        for index in 0..<1005 { _ = try await storage.inbox.enqueue(Self.dead(String(format: "evt_%04d", index))) }
        try await Self.withAdmin(storage: storage) { client in
            let session = try await client.session(Self.token)
            let confirm = try await client.execute(
                uri: "/admin/inbox/bulk-replay?status=dead", method: .get, headers: [.cookie: session.cookie])
            #expect(confirm.text.contains("id=\"confirm-bulk-replay\""))
            #expect(confirm.text.contains("name=\"status\" value=\"dead\""))
            let done = try await client.post("/admin/inbox/bulk-replay", session, fields: "&status=dead")
            #expect(done.status == .seeOther)
            #expect(done.headers[.location] == "/admin/inbox?status=dead&notice=bulk&count=1000")
            let bad = try await client.post("/admin/inbox/bulk-replay", session, fields: "&status=nonsense")
            #expect(bad.status == .badRequest)
        }
        let left = try await storage.admin.events(matching: InboxFilter(status: .dead), after: nil, limit: 2000)
        #expect(left.count == 5)
    }

    @Test func badInputGetsA4xxPageAndAnOutageA503Page() async throws {
        try await Self.withAdmin { client in
            let session = try await client.session(Self.token)
            for (uri, status, code) in [
                ("/admin/inbox?status=bogus", HTTPResponse.Status.badRequest, "invalid_status"),
                ("/admin/inbox?mode=sandbox", .badRequest, "invalid_mode"),
                ("/admin/installations?after=nonsense", .badRequest, "invalid_position"),
                ("/admin/jobs?status=bogus", .badRequest, "invalid_status"),
                ("/admin/events/evt_none", .notFound, "not_found"), ("/admin/jobs/job_none", .notFound, "not_found"),
                ("/admin/installations/sandbox/acct_1", .notFound, "not_found"),
                ("/admin/installations/test/acct_unknown", .notFound, "not_found"),
            ] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.cookie: session.cookie])
                #expect(response.status == status, "\(uri)")
                #expect(response.text.contains("data-code=\"\(code)\""), "\(uri)")
            }
        }
        let app = try buildApplication(
            configuration: try Self.configuration(), storage: UnavailableStorage(),
            hooks: ApplicationHooks(now: { testNow }))
        try await app.test(.router) { client in
            let cookie = try #require(try await client.logIn(Self.token).sessionCookie)
            let response = try await client.execute(uri: "/admin/inbox", method: .get, headers: [.cookie: cookie])
            #expect(response.status == .serviceUnavailable)
            #expect(response.text.contains("data-code=\"storage_unavailable\""))
        }
    }

    @Test func everyPageRendersForASessionWithData() async throws {
        let storage = InMemoryStorage()
        try await install(Tenant(accountID: "acct_admin", mode: .test), in: storage)
        _ = try await storage.inbox.enqueue(Self.dead("evt_page"))
        _ = try await storage.settings.updateSettings(
            for: Tenant(accountID: "acct_admin", mode: .test), expectedVersion: 0
        ) { $0["theme"] = .string("secret-value") }
        let job = try #require(
            try await storage.jobs.push(
                NewJob(name: "sync", tenant: Tenant(accountID: "acct_admin", mode: .test), parameters: "{}"),
                now: testNow))
        let sink = LogSink()
        try await Self.withAdmin(storage: storage, logger: sink.logger) { client in
            let session = try await client.session(Self.token)
            for uri in [
                "/admin", "/admin?refresh=5",
                "/admin/inbox?status=dead&type=customer.created&account=acct_admin&mode=test",
                "/admin/installations?q=admin&mode=test&status=active", "/admin/installations/test/acct_admin",
                "/admin/jobs", "/admin/jobs?status=pending", "/admin/jobs/\(job.id)", "/admin/inbox/bulk-replay",
            ] {
                let page = try await client.execute(uri: uri, method: .get, headers: [.cookie: session.cookie])
                #expect(page.status == .ok, "\(uri)")
                #expect(page.text.contains("</html>"), "\(uri)")
                #expect(!page.text.contains("nil") && !page.text.contains("Optional("), "\(uri): an unset value shown")
            }
            let tenant = try await client.execute(
                uri: "/admin/installations/test/acct_admin", method: .get, headers: [.cookie: session.cookie])
            #expect(tenant.text.contains("<code>theme</code>"))
            #expect(!tenant.text.contains("secret-value"), "settings keys only, never values")
            #expect(tenant.text.contains("evt_page"))
            let refreshing = try await client.execute(
                uri: "/admin?refresh=5", method: .get, headers: [.cookie: session.cookie])
            #expect(refreshing.text.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
            #expect(refreshing.text.contains("id=\"pause\""))
            let cancelled = try await client.post("/admin/jobs/\(job.id)/cancel", session)
            #expect(cancelled.status == .seeOther)
            #expect(try await storage.jobs.job(id: job.id)?.status == .cancelled)
            let replayed = try await client.post("/admin/jobs/\(job.id)/replay", session)
            #expect(replayed.status == .seeOther)
            #expect(try await storage.jobs.job(id: job.id)?.status == .pending)
        }
        #expect(!sink.all.contains(Self.token), "the token never reaches the log")
        #expect(await sink.line(containing: "admin action") != nil)
    }
}

/// A logged-in session as a browser holds it.
struct AdminTestSession {
    let cookie: String
    let csrf: String
}

extension TestClientProtocol {
    /// Posts the login form, same-origin as a browser would.
    func logIn(_ token: String, origin: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let origin { headers[.origin] = origin }
        return try await execute(
            uri: "/admin/login", method: .post, headers: headers,
            body: .init(string: "token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"))
    }

    /// Logs in and reads the session's CSRF token from the overview page.
    func session(_ token: String) async throws -> AdminTestSession {
        let response = try await logIn(token)
        let cookie = try #require(response.sessionCookie)
        let page = try await execute(uri: "/admin", method: .get, headers: [.cookie: cookie])
        let marker = try #require(page.text.range(of: "name=\"csrf\" value=\""))
        let csrf = String(page.text[marker.upperBound...].prefix { $0 != "\"" })
        return AdminTestSession(cookie: cookie, csrf: csrf)
    }

    /// Posts a form with the session's cookie and CSRF token.
    func post(_ uri: String, _ session: AdminTestSession, fields: String = "") async throws -> TestResponse {
        try await execute(
            uri: uri, method: .post, headers: HTTPFields([HTTPField(name: .cookie, value: session.cookie)]).form,
            body: .init(string: "csrf=\(session.csrf)\(fields)"))
    }
}

extension TestResponse {
    /// `name=value` of the session cookie the response sets.
    var sessionCookie: String? {
        headers[.setCookie].map { String($0.prefix { $0 != ";" }) }
    }
}

extension HTTPFields {
    /// These headers with a form content type.
    var form: HTTPFields {
        var fields = self
        fields[.contentType] = "application/x-www-form-urlencoded"
        return fields
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
