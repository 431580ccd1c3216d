import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import StripeApps
import StripeAppsServer
import Synchronization
import Testing

/// Issue 12, items 1, 2 and 5: install tickets instead of an unsigned `ref`, the mode bound to the state, and the
/// install's work queued with the state it consumes.
@Suite struct InstallTicketTests {
    static let token = "apptoken_" + String(repeating: "5f", count: 20)
    static let confirmURL = "https://app.example.com/stripe/linked"
    static let account = "acct_1JSkf6FRwUQjTSJE"
    static let live = Tenant(accountID: account, mode: .live)

    static func configuration(_ change: (inout AppConfiguration) -> Void = { _ in }) throws -> AppConfiguration {
        try InstallRouteTests.configuration { configuration in
            configuration.appServerToken = token
            configuration.install.confirmURL = confirmURL
            configuration.webhookSecretsLive = try? SigningKeyring(secrets: [WebhookRouteTests.liveSecret])
            change(&configuration)
        }
    }

    /// The router over in-memory storage with a worker the test drives (`processDueEvents`), and a clock it moves.
    final class Backend: Sendable {
        let store: InMemoryStorage
        let worker: InboxWorker
        let clock: TestClock

        init(store: InMemoryStorage, worker: InboxWorker, clock: TestClock) {
            self.store = store
            self.worker = worker
            self.clock = clock
        }

        func advance(_ seconds: TimeInterval) {
            clock.withLock { $0 = $0.addingTimeInterval(seconds) }
        }
    }

    static func backend(
        configuration: AppConfiguration? = nil,
        onInstall: @escaping @Sendable (InstallCompletion) async throws -> Void = { _ in },
        eventHandlers: EventHandlers = EventHandlers()
    ) throws -> (Backend, Router<AppRequestContext>) {
        let configuration = try configuration ?? Self.configuration()
        let store = InMemoryStorage()
        let clock = TestClock()
        let hooks = ApplicationHooks(
            now: { clock.withLock { $0 } }, onInstall: onInstall, eventHandlers: eventHandlers)
        let worker = inboxWorker(
            configuration: configuration, storage: store, hooks: hooks, logger: Logger(label: "test"))
        let router = buildRouter(
            configuration: configuration, storage: store, appKeyring: try SigningKeyring(secrets: [appSecret]),
            hooks: hooks, worker: worker)
        return (Backend(store: store, worker: worker, clock: clock), router)
    }

    let routes = InstallRouteTests()

    func post(
        _ client: some TestClientProtocol, _ path: String, _ body: String, token: String? = Self.token
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer " + token }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// A ticket for `appUser`, as the app's server asks for it.
    func ticket(_ client: some TestClientProtocol, for appUser: String, mode: String? = "live") async throws -> String {
        let body = mode.map { #"{"app_user":"\#(appUser)","mode":"\#($0)"}"# } ?? #"{"app_user":"\#(appUser)"}"#
        let response = try await post(client, "/install/tickets", body)
        #expect(response.status == .created)
        let value = try PayloadValue.parse(response.text)
        #expect(value["install_url"]?.stringValue?.hasPrefix("https://backend.example.com/install?ticket=") == true)
        return try #require(value["ticket"]?.stringValue)
    }

    /// Follows `/install?ticket=…` and comes back with a signed redirect, as the installing user's browser does.
    func install(
        _ client: some TestClientProtocol, ticket: String, livemode: String? = nil
    ) async throws -> TestResponse {
        let started = try await routes.start(client, query: "?ticket=\(ticket)")
        return try await client.execute(
            uri: try routes.callbackURI(state: started.state, account: Self.account, livemode: livemode),
            method: .get, headers: [.cookie: started.cookie])
    }

    func linkCode(of response: TestResponse) throws -> String {
        let location = try #require(response.headers[.location])
        #expect(location.hasPrefix(Self.confirmURL + "?link_code="))
        return String(location.dropFirst((Self.confirmURL + "?link_code=").count))
    }

    func errorCode(of response: TestResponse) throws -> String? {
        try PayloadValue.parse(response.text)["error"]?["code"]?.stringValue
    }

    /// Item 1: an attacker asks for a ticket for their own user and sends the link to a victim, who installs.
    /// The victim's browser lands on the app with the link code; the app's server redeems it for the user logged
    /// in there (the victim): the users differ, nothing is linked, and the code is gone for the attacker too.
    @Test func aTicketFollowedInAnotherUsersBrowserLinksNothing() async throws {
        let completions = Completions()
        let (backend, backendRouter) = try Self.backend(onInstall: { completions.append($0) })
        try await Application(router: backendRouter).test(.router) { client in
            let attackersTicket = try await ticket(client, for: "user-attacker")
            let callback = try await install(client, ticket: attackersTicket)
            #expect(callback.status == .found)
            let code = try linkCode(of: callback)

            let mismatch = try await post(
                client, "/install/links", #"{"link_code":"\#(code)","app_user":"user-victim"}"#)
            #expect(mismatch.status == .forbidden)
            #expect(try errorCode(of: mismatch) == "app_user_mismatch")
            let again = try await post(
                client, "/install/links", #"{"link_code":"\#(code)","app_user":"user-attacker"}"#)
            #expect(again.status == .notFound)
            #expect(try errorCode(of: again) == "link_code_expired_or_used")

            // The install itself is the victim's, recorded and hooked with no app user in it.
            #expect(try await backend.worker.processDueEvents() == 1)
            #expect(try await backend.store.installations.installation(for: Self.live)?.status == .active)
            #expect(completions.all == [InstallCompletion(tenant: Self.live, userID: "usr_K6yd2CbXLO9A5G")])
        }
    }

    /// Item 1: the user the ticket was issued for, still logged in, confirms the link once.
    @Test func theTicketsOwnUserConfirmsTheLinkOnce() async throws {
        let (_, backendRouter) = try Self.backend()
        try await Application(router: backendRouter).test(.router) { client in
            let callback = try await install(client, ticket: try await ticket(client, for: "user-42 é"))
            let code = try linkCode(of: callback)
            #expect(callback.headers[.setCookie]?.contains("Max-Age=0") == true)
            let redeemed = try await post(client, "/install/links", #"{"link_code":"\#(code)","app_user":"user-42 é"}"#)
            #expect(redeemed.status == .ok)
            #expect(
                redeemed.text
                    == #"{"account_id":"acct_1JSkf6FRwUQjTSJE","livemode":true,"user_id":"usr_K6yd2CbXLO9A5G","app_user":"user-42 é","installed":true}"#
            )
            let twice = try await post(client, "/install/links", #"{"link_code":"\#(code)","app_user":"user-42 é"}"#)
            #expect(twice.status == .notFound)
        }
    }

    /// Item 1: a ticket works once and for a limited time; an unsigned `ref` is refused and stores nothing.
    @Test func ticketsAreOneTimeAndRefIsRefused() async throws {
        let (backend, backendRouter) = try Self.backend()
        try await Application(router: backendRouter).test(.router) { client in
            let ref = try await client.execute(uri: "/install?ref=user-attacker", method: .get)
            #expect(ref.status == .badRequest)
            #expect(routes.code(of: ref) == "unsigned_reference")
            #expect(ref.headers[.setCookie] == nil)
            #expect(try await backend.store.installStates.deleteExpired(now: .distantFuture) == 0, "nothing stored")

            let ticket = try await ticket(client, for: "user-1")
            _ = try await routes.start(client, query: "?ticket=\(ticket)")
            for used in [ticket, String(repeating: "0", count: 64), "not-a-ticket"] {
                let refused = try await client.execute(uri: "/install?ticket=\(used)", method: .get)
                #expect(refused.status == .badRequest)
                #expect(routes.code(of: refused) == "ticket_expired_or_used")
            }
            let late = try await self.ticket(client, for: "user-1")
            backend.advance(3601)
            let expired = try await client.execute(uri: "/install?ticket=\(late)", method: .get)
            #expect(routes.code(of: expired) == "ticket_expired_or_used")
        }
    }

    /// The server-to-server routes: a token, a JSON body of the right shape, app users limited in bytes.
    @Test func ticketRoutesNeedTheTokenAndAValidBody() async throws {
        let (_, backendRouter) = try Self.backend()
        try await Application(router: backendRouter).test(.router) { client in
            for token in [nil, "wrong", Self.token + "x"] {
                let refused = try await post(client, "/install/tickets", #"{"app_user":"u"}"#, token: token)
                #expect(refused.status == .unauthorized)
                #expect(try errorCode(of: refused) == "unauthorized")
                #expect(refused.headers[.accessControlAllowOrigin] == nil)
            }
            let cases: [(String, String, String)] = [
                ("/install/tickets", "not json", "invalid_body"),
                ("/install/tickets", "[]", "invalid_body"),
                ("/install/tickets", #"{"mode":"live"}"#, "invalid_app_user"),
                ("/install/tickets", #"{"app_user":""}"#, "invalid_app_user"),
                ("/install/tickets", #"{"app_user":"a\u0000b"}"#, "invalid_app_user"),
                ("/install/tickets", #"{"app_user":"\#(String(repeating: "é", count: 129))"}"#, "invalid_app_user"),
                ("/install/tickets", #"{"app_user":"u","mode":"sandbox"}"#, "invalid_mode"),
                ("/install/links", #"{"link_code":"abc","app_user":"u"}"#, "invalid_link_code"),
                ("/install/links", #"{"app_user":"u"}"#, "invalid_link_code"),
            ]
            for (path, body, code) in cases {
                let response = try await post(client, path, body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(try errorCode(of: response) == code, "\(body)")
            }
            let fits = try await post(
                client, "/install/tickets", #"{"app_user":"\#(String(repeating: "é", count: 128))"}"#)
            #expect(fits.status == .created)
            let tooBig = try await post(
                client, "/install/tickets", #"{"app_user":"\#(String(repeating: "x", count: 5000))"}"#)
            #expect(tooBig.status == .contentTooLarge)
            let get = try await client.execute(uri: "/install/tickets", method: .get)
            #expect(get.status == .methodNotAllowed)
        }
        let (_, unconfiguredRouter) = try Self.backend(
            configuration: try Self.configuration {
                $0.appServerToken = nil
                $0.install.confirmURL = nil
            })
        try await Application(router: unconfiguredRouter).test(.router) { client in
            let response = try await post(client, "/install/tickets", #"{"app_user":"u"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(try errorCode(of: response) == "app_server_token_not_configured")
        }
        let (_, noConfirmPageRouter) = try Self.backend(
            configuration: try Self.configuration { $0.install.confirmURL = nil })
        try await Application(router: noConfirmPageRouter).test(.router) { client in
            let response = try await post(client, "/install/tickets", #"{"app_user":"u"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(try errorCode(of: response) == "install_confirm_url_not_configured")
        }
    }

    /// Item 2: the unsigned `livemode` must agree with the mode the install was started for.
    @Test func aRedirectInAnotherModeThanStartedIsRefused() async throws {
        let (backend, backendRouter) = try Self.backend()
        try await Application(router: backendRouter).test(.router) { client in
            for (start, livemode) in [("?mode=test", nil), ("?mode=live", "false")] as [(String, String?)] {
                let started = try await routes.start(client, query: start)
                let refused = try await client.execute(
                    uri: try routes.callbackURI(state: started.state, livemode: livemode), method: .get,
                    headers: [.cookie: started.cookie])
                #expect(refused.status == .badRequest)
                #expect(routes.code(of: refused) == "mode_mismatch")
            }
            let ticket = try await ticket(client, for: "user-1", mode: "test")
            let conflicting = try await client.execute(uri: "/install?ticket=\(ticket)&mode=live", method: .get)
            #expect(routes.code(of: conflicting) == "mode_mismatch")
            #expect(try await backend.store.installations.installations().isEmpty)
            #expect(try await backend.store.inbox.events(status: nil, limit: 10).isEmpty, "no follow-up queued")

            // A test install started for test mode goes through.
            let started = try await routes.start(client, query: "?mode=test")
            let accepted = try await client.execute(
                uri: try routes.callbackURI(state: started.state, livemode: "false"), method: .get,
                headers: [.cookie: started.cookie])
            #expect(accepted.status == .found)
            #expect(
                try await backend.store.installations.installation(for: Tenant(accountID: Self.account, mode: .test))?
                    .status == .active)
        }
    }

    /// Item 2: a live install started without a mode records nothing live until Stripe's signed
    /// `account.application.authorized` event for live mode arrives; then its hook runs.
    @Test func aLiveInstallWithoutAModeWaitsForTheSignedEvent() async throws {
        let completions = Completions()
        let (backend, backendRouter) = try Self.backend(onInstall: { completions.append($0) })
        try await Application(router: backendRouter).test(.router) { client in
            let started = try await routes.start(client)
            let callback = try await client.execute(
                uri: try routes.callbackURI(state: started.state, account: Self.account), method: .get,
                headers: [.cookie: started.cookie])
            #expect(callback.status == .found, "the user still lands on the onboarding page")
            #expect(try await backend.store.installations.installation(for: Self.live) == nil)
            #expect(try await backend.worker.processDueEvents() == 1)
            let waiting = try #require(try await backend.store.inbox.events(status: .failed, limit: 1).first)
            #expect(waiting.lastError?.contains("waiting for the signed account.application.authorized") == true)
            #expect(completions.all.isEmpty)

            try await InstallRaceTests.deliver(
                InstallRaceTests.event("evt_authorized", "account.application.authorized", created: 1_700_000_001),
                client)
            #expect(try await backend.worker.processDueEvents() == 1, "the event; the follow-up waits for its retry")
            #expect(try await backend.store.installations.installation(for: Self.live)?.status == .active)
            backend.advance(3600)
            #expect(try await backend.worker.processDueEvents() == 1)
            #expect(completions.all == [InstallCompletion(tenant: Self.live, userID: "usr_K6yd2CbXLO9A5G")])
        }
    }

    /// Item 5: a failing install hook is retried from the inbox until it succeeds; the install was recorded at
    /// once.
    @Test func aFailingInstallHookIsRetriedFromTheInbox() async throws {
        let calls = Mutex(0)
        let (backend, backendRouter) = try Self.backend(onInstall: { _ in
            let call = calls.withLock {
                $0 += 1
                return $0
            }
            if call == 1 { throw CancellationError() }
        })
        try await Application(router: backendRouter).test(.router) { client in
            let started = try await routes.start(client, query: "?mode=live")
            let callback = try await client.execute(
                uri: try routes.callbackURI(state: started.state), method: .get, headers: [.cookie: started.cookie])
            #expect(callback.status == .found)
            #expect(try await backend.store.installations.installation(for: Self.live)?.status == .active)
            #expect(try await backend.worker.processDueEvents() == 1)
            #expect(try await backend.store.inbox.events(status: .failed, limit: 1).count == 1)
            backend.advance(3600)
            #expect(try await backend.worker.processDueEvents() == 1)
            let done = try #require(try await backend.store.inbox.events(status: .succeeded, limit: 1).first)
            #expect(done.type == InstallFollowUps.eventType && done.attempts == 2)
            #expect(calls.withLock { $0 } == 2)
        }
    }

    /// Item 5: when storage fails during the callback, the browser gets an HTML page, nothing is consumed or
    /// half-written, and the same redirect works once storage is back.
    @Test func aStorageFailureIsAnHTMLPageAndTheRedirectWorksAfterwards() async throws {
        let storage = FlakyCompletionStorage()
        let configuration = try Self.configuration()
        let app = try buildApplication(
            configuration: configuration, storage: storage, hooks: ApplicationHooks(now: { testNow }))
        try await app.test(.router) { client in
            let started = try await routes.start(client, query: "?mode=live")
            let uri = try routes.callbackURI(state: started.state)
            storage.failing.withLock { $0 = true }
            let failed = try await client.execute(uri: uri, method: .get, headers: [.cookie: started.cookie])
            #expect(failed.status == .serviceUnavailable)
            #expect(failed.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(routes.code(of: failed) == "install_unavailable")
            #expect(!failed.text.contains("down for the test"), "no internal detail in the page")
            #expect(try await storage.base.installations.installations().isEmpty)
            #expect(try await storage.base.inbox.events(status: nil, limit: 10).isEmpty)

            storage.failing.withLock { $0 = false }
            let retried = try await client.execute(uri: uri, method: .get, headers: [.cookie: started.cookie])
            #expect(retried.status == .found)
            #expect(try await storage.base.installations.installation(for: Self.live)?.status == .active)
        }
        try await withTestApp(configuration: configuration, storage: UnavailableStorage()) { client in
            let response = try await client.execute(uri: "/install", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
        }
    }

    /// The follow-up events are the backend's own: `onEvery` handlers never see them, and no webhook may
    /// deliver one.
    @Test func followUpEventsAreTheBackendsOwn() async throws {
        let seen = Mutex<[String]>([])
        var handlers = EventHandlers()
        handlers.onEvery { context in seen.withLock { $0.append(context.event.type) } }
        let (backend, backendRouter) = try Self.backend(eventHandlers: handlers)
        try await Application(router: backendRouter).test(.router) { client in
            let started = try await routes.start(client, query: "?mode=live")
            _ = try await client.execute(
                uri: try routes.callbackURI(state: started.state), method: .get, headers: [.cookie: started.cookie])
            #expect(try await backend.worker.processDueEvents() == 1)
            #expect(seen.withLock { $0 }.isEmpty)

            let forged = InstallRaceTests.event("evt_forged", InstallFollowUps.eventType, created: 1_700_000_000)
            let response = try await client.execute(
                uri: "/webhooks/live", method: .post,
                headers: try WebhookRouteTests.signed(forged, secret: WebhookRouteTests.liveSecret),
                body: ByteBuffer(string: forged))
            #expect(response.status == .badRequest)
            #expect(try errorCode(of: response) == "reserved_event_type")
        }
    }
}

/// In-memory storage whose install-state completion fails while `failing` is set, as a database that went away
/// in the middle of a callback.
final class FlakyCompletionStorage: StorageBackend, InstallStateStore {
    let base = InMemoryStorage()
    let failing = Mutex(false)

    var installations: InMemoryStorage { base }
    var settings: InMemoryStorage { base }
    var installStates: FlakyCompletionStorage { self }
    var credentials: InMemoryStorage { base }
    var metadata: InMemoryStorage { base }
    var inbox: InMemoryStorage { base }
    var jobs: InMemoryJobQueue { base.jobs }
    var schedules: InMemoryJobQueue { base.schedules }
    var admin: InMemoryStorage { base }
    var statistics: InMemoryStorage { base }
    func run() async throws { try await base.run() }
    func migrate() async throws { try await base.migrate() }
    func appliedMigrations() async throws -> [String] { try await base.appliedMigrations() }
    func checkHealth() async throws { try await base.checkHealth() }

    func save(_ state: InstallState) async throws { try await base.save(state) }
    func consume(_ kind: InstallState.Kind, hash: String, now: Date) async throws -> InstallState? {
        try await base.consume(kind, hash: hash, now: now)
    }
    func state(hash: String, now: Date) async throws -> InstallState? { try await base.state(hash: hash, now: now) }
    func complete(hash: String, now: Date, _ followUp: @Sendable (InstallState) -> InstallFollowUp) async throws
        -> InstallState?
    {
        if failing.withLock({ $0 }) { throw StoreError(.unavailable, message: "down for the test") }
        return try await base.complete(hash: hash, now: now, followUp)
    }
    func deleteExpired(now: Date) async throws -> Int { try await base.deleteExpired(now: now) }
}
