public import Foundation
public import HTTPTypes
import Hummingbird
public import HummingbirdTesting
public import Logging
import NIOCore
public import StripeApps
import StripeAppsAPI
public import StripeAppsServer

/// A Stripe App backend under test: the application `buildApplication` builds, exactly as it runs in production,
/// with your hooks (routes, event handlers, jobs, install hooks), over storage of your choice (in memory by
/// default), on a ``FakeClock``, calling a ``FakeStripe`` that it serves itself. No network, no Stripe account.
///
/// Nothing runs behind the test's back: the inbox and job workers claim nothing by themselves (deliveries wait in
/// the inbox), and the test runs the work when it wants to with ``processEvents()`` and ``runJobs()``. A retry
/// comes due only when the test moves ``clock`` past its backoff.
///
/// ```swift
/// try await withTestBackend(hooks: { setup in MyApp.hooks(setup) }) { backend in
///     let tenant = Tenant(accountID: "acct_1", mode: .test)
///     try await backend.install(tenant)
///     let answer = try await backend.call(.post, "/api/sync", as: TestUser(tenant: tenant))
///     #expect(answer.status == .ok)
///     try await backend.deliver(TestEvent("customer.created", account: "acct_1", object: customer))
///     #expect(try await backend.processEvents() == 1)
/// }
/// ```
public struct TestBackend<Storage: StorageBackend>: Sendable {
    /// The app signing secret the backend verifies UI calls and install redirects with.
    public static var appSecret: String { "absec_test_backend_app_secret" }
    /// The live-mode webhook endpoint's secret.
    public static var liveWebhookSecret: String { "whsec_test_backend_live_endpoint" }
    /// The test-mode webhook endpoint's secret.
    public static var testWebhookSecret: String { "whsec_test_backend_test_endpoint" }

    /// Sends requests to the application's router (no sockets).
    public let client: any TestClientProtocol
    /// The storage, running and migrated.
    public let storage: Storage
    /// The configuration the application runs with (``FakeStripe`` and its keys, a credential cipher).
    public let configuration: AppConfiguration
    /// The clock of the application, its workers and the fakes.
    public let clock: FakeClock
    /// The fake Stripe API the tenant-bound Stripe clients call.
    public let stripe: FakeStripe
    /// Signs UI calls with ``appSecret``.
    public let ui: UIExtensionSigner
    /// Signs deliveries to `/webhooks/live`.
    public let liveWebhooks: WebhookEventSigner
    /// Signs deliveries to `/webhooks/test`.
    public let testWebhooks: WebhookEventSigner
    /// Signs install redirects with ``appSecret``.
    public let installRedirects: InstallRedirectSigner
    /// The application's inbox worker.
    public let inboxWorker: InboxWorker
    /// The application's job worker.
    public let jobWorker: JobWorker
    /// The application's metrics (the ones `/metrics` serves).
    public let metrics: AppMetrics

    /// A production-mode configuration with the test secrets: ``appSecret``, both webhook endpoints, an app id,
    /// an install link and its redirect URI on `https://backend.example.test`.
    public static func configuration() throws -> AppConfiguration {
        var configuration = AppConfiguration(
            appID: "com.example.test-app",
            appSecrets: try SigningKeyring(secrets: [appSecret]),
            webhookSecretsLive: try SigningKeyring(secrets: [liveWebhookSecret]),
            webhookSecretsTest: try SigningKeyring(secrets: [testWebhookSecret]),
            port: 0,
            publicURL: "https://backend.example.test",
            databaseURL: "sqlite::memory:"
        )
        let callback = "https://backend.example.test/install/callback"
        configuration.install = InstallConfiguration(
            installLink: "https://marketplace.stripe.com/apps/install/link/test_backend", redirectURI: callback,
            configuredRedirectURIs: [callback])
        // The backend's own missed-event recovery would call the fake Stripe on every `runJobs()`.
        configuration.eventRecoveryHours = 0
        return configuration
    }

    // MARK: Signed UI calls

    /// Sends a signed UI call as `user`, as the UI extension's `fetchStripeSignature` signs it: a POST (or PUT,
    /// PATCH) carries `extra` with the ids in its JSON body; a GET or DELETE carries the ids in headers.
    @discardableResult
    public func call(
        _ method: HTTPRequest.Method, _ path: String, as user: TestUser, json extra: [PayloadField] = []
    ) async throws -> TestResponse {
        let signed: SignedUIRequest
        if method == .get || method == .delete || method == .head {
            signed = try ui.get(userID: user.userID, accountID: user.tenant.accountID, mode: user.tenant.mode)
        } else {
            signed = try ui.post(
                userID: user.userID, accountID: user.tenant.accountID, mode: user.tenant.mode, extra: extra,
                roles: user.roles)
        }
        return try await client.execute(uri: path, method: method, headers: signed.headers, body: signed.body)
    }

    // MARK: Webhooks

    /// Delivers `event` to the endpoint of its mode (`/webhooks/live` or `/webhooks/test`), signed with that
    /// endpoint's secret; the answer is the endpoint's (200 once stored). Its handlers run at the next
    /// ``processEvents()``.
    @discardableResult
    public func deliver(_ event: TestEvent) async throws -> TestResponse {
        let (headers, body) = (event.mode.isLive ? liveWebhooks : testWebhooks).delivery(of: event)
        return try await client.execute(
            uri: event.mode.isLive ? "/webhooks/live" : "/webhooks/test", method: .post, headers: headers, body: body)
    }

    /// Runs every event that is due, batch after batch, until none is: handlers, the built-in install lifecycle and
    /// install hooks. Returns how many runs there were. A failed event waits for its retry, due once ``clock``
    /// passes its backoff.
    @discardableResult
    public func processEvents() async throws -> Int {
        var runs = 0
        while case let claimed = try await inboxWorker.processDueEvents(), claimed > 0 {
            runs += claimed
        }
        return runs
    }

    /// The inbox's events in `status` (every status when `nil`), newest first.
    public func events(_ status: InboxEvent.Status? = nil, limit: Int = 1000) async throws -> [InboxEvent] {
        try await storage.inbox.events(status: status, limit: limit)
    }

    // MARK: Jobs

    /// Pushes the slots of the schedules that have come by ``clock`` (once each, per installation where the
    /// schedule says so), then runs every due job until none is; returns how many job runs there were.
    @discardableResult
    public func runJobs() async throws -> Int {
        _ = await jobWorker.advanceSchedules()
        var runs = 0
        while case let ran = try await jobWorker.processDueJobs(), ran > 0 {
            runs += ran
        }
        return runs
    }

    // MARK: Installs

    /// Installs the app for `tenant` the way a user does: `GET /install?mode=…`, then the marketplace's signed
    /// redirect to `/install/callback` with the state cookie; then runs the install's follow-up (your
    /// `onInstall` hook and the lifecycle's). Returns the callback's answer (302 to the onboarding deep link).
    @discardableResult
    public func install(_ tenant: Tenant, userID: String = "usr_test") async throws -> TestResponse {
        let started = try await client.execute(uri: "/install?mode=\(tenant.mode)", method: .get)
        guard started.status == .found, let location = started.headers[.location],
            let state = URLComponents(string: location)?.queryItems?.first(where: { $0.name == "state" })?.value,
            let cookie = started.headers[.setCookie]?.split(separator: ";").first
        else {
            throw TestBackendError("GET /install answered \(started.status.code), not a redirect with a state")
        }
        let query = try installRedirects.callbackQuery(state: state, userID: userID, tenant: tenant)
        let answer = try await client.execute(
            uri: "/install/callback?" + query, method: .get, headers: [.cookie: String(cookie)])
        try await processEvents()
        return answer
    }

    /// Uninstalls the app for `tenant` as Stripe reports it: delivers `account.application.deauthorized` and runs
    /// it (the lifecycle's uninstall hooks, your purge).
    public func uninstall(_ tenant: Tenant) async throws {
        let answer = try await deliver(.uninstalled(tenant, created: clock.now))
        guard answer.status == .ok else {
            throw TestBackendError("the deauthorized event was answered \(answer.status.code)")
        }
        try await processEvents()
    }
}

/// A user of the Stripe Dashboard calling the app's UI extension.
public struct TestUser: Sendable, Hashable {
    /// The account and mode the Dashboard is in.
    public var tenant: Tenant
    /// The user (`usr_…`).
    public var userID: String
    /// The user's Dashboard roles, signed with the call (`nil`: none sent).
    public var roles: [StripeRole]?

    /// Creates a user.
    public init(tenant: Tenant, userID: String = "usr_test", roles: [StripeRole]? = nil) {
        self.tenant = tenant
        self.userID = userID
        self.roles = roles
    }
}

/// What the hooks of the application under test are built from: the same configuration, storage and clock as
/// the application, so a job worker or client the app builds shares them.
public struct TestBackendSetup<Storage: StorageBackend>: Sendable {
    /// The configuration the application runs with.
    public let configuration: AppConfiguration
    /// The storage.
    public let storage: Storage
    /// The test's clock, for `now:` parameters.
    public let now: @Sendable () -> Date
    /// A logger at `warning`, so test output stays quiet.
    public let logger: Logger
    /// The metrics the application serves; add the app's own to it.
    public let metrics: AppMetrics
}

/// A harness step that did not go as a user's would.
public struct TestBackendError: Error, CustomStringConvertible {
    /// What went differently.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Runs `body` against a ``TestBackend`` over `storage`: the real application with the hooks `hooks` builds,
/// started and migrated, with a fake Stripe served on 127.0.0.1; everything is shut down when `body` returns.
///
/// - Parameters:
///   - storage: The storage backend, not yet running.
///   - configuration: The configuration; ``TestBackend/configuration()`` by default. The harness points it at
///     its fake Stripe (with the fake's secret keys when it names none) and adds a random credential cipher when
///     it has none. Its signers sign with the kit's secrets (``TestBackend/appSecret``, the webhook secrets):
///     start a configuration of your own from ``TestBackend/configuration()`` to keep them; in development mode
///     (no app secrets) they sign with the development secrets the backend keeps in storage.
///   - clock: The clock; a ``FakeClock`` at 2024-01-01T00:00:00Z by default.
///   - hooks: Builds the application's hooks from the setup; the harness sets their clock, builds the job worker
///     (with the backend's own jobs) when they have none and the inbox worker, and keeps both workers stopped.
public func withTestBackend<Storage: StorageBackend, Result: Sendable>(
    storage: Storage,
    configuration: AppConfiguration? = nil,
    clock: FakeClock = FakeClock(),
    hooks: (TestBackendSetup<Storage>) throws -> ApplicationHooks = { _ in ApplicationHooks() },
    _ body: @Sendable (TestBackend<Storage>) async throws -> Result
) async throws -> Result {
    var configuration = try configuration ?? TestBackend<Storage>.configuration()
    let stripe = FakeStripe(now: clock.provider)
    var logger = Logger(label: "test-backend")
    logger.logLevel = .warning
    let now = clock.provider
    return try await stripe.withServer { stripeURL in
        configuration.stripeAPIBaseURL = stripeURL.absoluteString
        if configuration.stripeSecretKeys.isEmpty {
            configuration.stripeSecretKeys = [
                try APICredential(secretKey: stripe.testSecretKey), try APICredential(secretKey: stripe.liveSecretKey),
            ]
        }
        if configuration.credentialCipher == nil {
            var random = SystemRandomNumberGenerator()
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }).base64EncodedString()
            configuration.credentialCipher = try CredentialCipher(base64Keys: key)
        }
        let metrics = AppMetrics()
        let setup = TestBackendSetup(
            configuration: configuration, storage: storage, now: now, logger: logger, metrics: metrics)
        var built = try hooks(setup)
        built.now = now
        built.metrics = built.metrics ?? metrics
        built.startsWorkers = false
        let jobs =
            built.jobWorker
            ?? jobWorker(
                configuration: configuration, storage: storage, registry: JobRegistry(), now: now, logger: logger)
        built.jobWorker = jobs
        let inbox =
            built.inboxWorker
            ?? inboxWorker(configuration: configuration, storage: storage, hooks: built, logger: logger)
        built.inboxWorker = inbox
        let application = try buildApplication(
            configuration: configuration, storage: storage, logger: logger, hooks: built)
        let served = built.metrics ?? metrics
        let frozen = configuration
        return try await application.test(.router) { client in
            // In development mode (no app secrets) the backend verifies with the secrets it keeps in storage,
            // created before it started: the signers use those.
            let development = frozen.isDevelopmentMode
            let appSecret =
                development ? try await developmentSecret(in: storage.metadata) : TestBackend<Storage>.appSecret
            func webhookSecret(_ mode: Tenant.Mode, configured: SigningKeyring?, _ fixed: String) async throws -> String
            {
                guard development, configured == nil else { return fixed }
                return try await developmentWebhookSecret(for: mode, in: storage.metadata)
            }
            let live = try await webhookSecret(
                .live, configured: frozen.webhookSecretsLive, TestBackend<Storage>.liveWebhookSecret)
            let test = try await webhookSecret(
                .test, configured: frozen.webhookSecretsTest, TestBackend<Storage>.testWebhookSecret)
            let backend = TestBackend(
                client: client, storage: storage, configuration: frozen, clock: clock, stripe: stripe,
                ui: try UIExtensionSigner(secrets: [appSecret], now: now),
                liveWebhooks: try WebhookEventSigner(secrets: [live], now: now),
                testWebhooks: try WebhookEventSigner(secrets: [test], now: now),
                installRedirects: try InstallRedirectSigner(secrets: [appSecret], now: now),
                inboxWorker: inbox, jobWorker: jobs, metrics: served)
            return try await body(backend)
        }
    }
}

/// ``withTestBackend(storage:configuration:clock:hooks:_:)`` over a new ``StripeApps/InMemoryStorage``.
public func withTestBackend<Result: Sendable>(
    configuration: AppConfiguration? = nil,
    clock: FakeClock = FakeClock(),
    hooks: (TestBackendSetup<InMemoryStorage>) throws -> ApplicationHooks = { _ in ApplicationHooks() },
    _ body: @Sendable (TestBackend<InMemoryStorage>) async throws -> Result
) async throws -> Result {
    try await withTestBackend(
        storage: InMemoryStorage(), configuration: configuration, clock: clock, hooks: hooks, body)
}
