public import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
public import ServiceLifecycle
public import StripeApps
import StripeAppsAPI
import Tracing

/// What the composition root needs beyond the configuration: hooks for tests and for apps built on the package.
public struct ApplicationHooks: Sendable {
    /// The clock the signature verifier, the install flow and the worker use.
    public var now: @Sendable () -> Date
    /// Extra services to run with the server (an app's own clients and workers); they start after storage and
    /// stop before it.
    public var services: [any Service]
    /// Called once the server listens, with the port it got.
    public var onServerRunning: @Sendable (_ port: Int) async -> Void
    /// Adds the app's own signed UI routes under `/api`; handlers get a ``VerifiedRequestContext``. Outside
    /// development mode they answer only while the tenant has the app installed (403 `not_installed`).
    public var configureAPI: @Sendable (RouterGroup<VerifiedRequestContext>) -> Void
    /// Runs after an install callback recorded the installation (create the account on your side…): from the
    /// inbox, retried with the event retry policy until it succeeds, so it must be idempotent. A live install
    /// started without a mode runs it once the signed `account.application.authorized` event confirmed it.
    public var onInstall: @Sendable (InstallCompletion) async throws -> Void
    /// The app's handlers of stored webhook events, by type.
    public var eventHandlers: EventHandlers
    /// Install and uninstall hooks run by the built-in `account.application.*` handlers.
    public var lifecycle: InstallLifecycle
    /// The job worker (``jobWorker(configuration:storage:registry:now:logger:)``): the application runs it and
    /// starts it once storage is migrated; push jobs with it. Without one the application runs its own, for the
    /// backend's periodic jobs only.
    public var jobWorker: JobWorker?
    /// The metrics served at `/metrics`; pass your own to add the app's metrics to its registry. A new one when
    /// `nil`.
    public var metrics: AppMetrics?
    /// The inbox worker (``inboxWorker(configuration:storage:hooks:logger:)`` with these hooks), when the caller
    /// wants a handle on it; the application builds its own when `nil`.
    public var inboxWorker: InboxWorker?
    /// Whether the application starts its inbox and job workers once storage is ready (the default). With `false`
    /// they claim nothing by themselves: deliveries wait in the inbox, and a test drives the work one step at a
    /// time with ``InboxWorker/processDueEvents(limit:)``, ``JobWorker/advanceSchedules()`` and
    /// ``JobWorker/processDueJobs()`` (`StripeAppsTesting`'s `TestBackend` does).
    public var startsWorkers = true

    /// Creates hooks; every one is optional.
    public init(
        now: @escaping @Sendable () -> Date = { Date() },
        services: [any Service] = [],
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in },
        configureAPI: @escaping @Sendable (RouterGroup<VerifiedRequestContext>) -> Void = { _ in },
        onInstall: @escaping @Sendable (InstallCompletion) async throws -> Void = { _ in },
        eventHandlers: EventHandlers = EventHandlers(),
        lifecycle: InstallLifecycle = InstallLifecycle(),
        jobWorker: JobWorker? = nil,
        metrics: AppMetrics? = nil
    ) {
        self.now = now
        self.services = services
        self.onServerRunning = onServerRunning
        self.configureAPI = configureAPI
        self.onInstall = onInstall
        self.eventHandlers = eventHandlers
        self.lifecycle = lifecycle
        self.jobWorker = jobWorker
        self.metrics = metrics
    }
}

/// Builds the backend exactly as `stripe-apps-backend serve` runs it; tests call it with ``StripeApps/InMemoryStorage``.
///
/// The application owns every service's lifetime: the storage backend runs first (its connections), then the
/// app's services and the inbox worker, then the server. Before the server accepts a request, storage is
/// migrated and the app signing secrets are read (in development mode, from storage); only then does the
/// worker claim events. Every setting comes from `configuration`, so tests of this function run what the
/// executable runs.
///
/// - Parameters:
///   - configuration: The configuration.
///   - storage: The storage backend, not yet running nor migrated.
///   - logger: The application logger; one labelled `stripe-apps-backend` at the configured level when `nil`.
///   - hooks: Clock, extra services, routes and handlers.
/// - Returns: The application; run it with `runService()`, which shuts down gracefully on SIGTERM and SIGINT
///   and lets requests in flight finish. It throws when migrations or the development secret fail.
public func buildApplication<Storage: StorageBackend>(
    configuration: AppConfiguration,
    storage: Storage,
    logger: Logger? = nil,
    hooks: ApplicationHooks = ApplicationHooks()
) throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "stripe-apps-backend")
    if logger.logLevel > configuration.logLevel || logger.logLevel == .info { logger.logLevel = configuration.logLevel }
    let signing = AppSigning()
    let metrics = hooks.metrics ?? AppMetrics()
    let worker =
        hooks.inboxWorker ?? inboxWorker(configuration: configuration, storage: storage, hooks: hooks, logger: logger)
    worker.recordMetrics(into: metrics)
    // The app's worker, or one for the backend's own periodic jobs.
    let jobs =
        hooks.jobWorker
        ?? jobWorker(
            configuration: configuration, storage: storage, registry: JobRegistry(), now: hooks.now, logger: logger)
    jobs.recordMetrics(into: metrics)
    let gauges = StorageGauges(statistics: storage.statistics, metrics: metrics, now: hooks.now, logger: logger)
    let local = LocalBaseURL(port: configuration.port)
    let router = buildRouter(
        configuration: configuration, storage: storage, signing: signing, hooks: hooks, worker: worker,
        metrics: metrics, local: local)
    // Events stored by another instance on shared storage start here at once too, not at the next poll.
    storage.onEventsStoredElsewhere { worker.notify() }
    let host = configuration.bindHost
    if configuration.isDevelopmentMode, configuration.host != host {
        logger.warning("development mode binds to 127.0.0.1 only; HOST is ignored until STRIPE_APP_SECRETS is set")
    }
    if configuration.install.acceptsLegacySignatures { logger.warning("\(Doctor.legacyInstallHMACWarning)") }
    let onServerRunning = hooks.onServerRunning
    let deadlines = ConnectionDeadlines(
        head: .seconds(Int64(configuration.httpHeaderTimeoutSeconds)),
        body: .seconds(Int64(configuration.httpBodyTimeoutSeconds)))
    var app = Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: deadlines.handlers(),
                idleTimeout: .seconds(Int64(configuration.httpIdleTimeoutSeconds)))),
        configuration: .init(
            address: .hostname(host, port: configuration.port), serverName: "stripe-apps-backend",
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.maximumConnections)),
        services: [StorageService(storage)] + hooks.services + [worker, jobs, gauges],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            local.set(port: port)
            await onServerRunning(port)
        },
        logger: logger
    )
    app.beforeServerStarts {
        try await storage.migrate()
        let keyring = try await appKeyring(configuration: configuration, metadata: storage.metadata)
        let webhooks = try await webhookKeyrings(configuration: configuration, metadata: storage.metadata)
        signing.set(configuration: configuration, keyring: keyring, webhooks: webhooks, now: hooks.now)
        if hooks.startsWorkers {
            worker.start()
            jobs.start()
        }
        gauges.start()
    }
    return app
}

/// Builds the router over a storage backend whose app signing secrets are already known; for tests that drive
/// the worker themselves (see ``inboxWorker(configuration:storage:hooks:logger:)``).
///
/// - Parameters:
///   - configuration: The configuration (limits, tolerance).
///   - storage: The storage, migrated and running.
///   - appKeyring: The app signing secrets (the development secret in development mode).
///   - hooks: The clock and the app's own routes.
///   - worker: The worker the webhook endpoints wake after storing an event.
public func buildRouter<Storage: StorageBackend>(
    configuration: AppConfiguration,
    storage: Storage,
    appKeyring: SigningKeyring,
    hooks: ApplicationHooks = ApplicationHooks(),
    worker: InboxWorker? = nil
) -> Router<AppRequestContext> {
    let signing = AppSigning()
    signing.set(
        configuration: configuration, keyring: appKeyring,
        webhooks: (configuration.webhookSecretsLive, configuration.webhookSecretsTest), now: hooks.now)
    return buildRouter(
        configuration: configuration, storage: storage, signing: signing, hooks: hooks, worker: worker,
        metrics: hooks.metrics ?? AppMetrics(), local: LocalBaseURL(port: configuration.port))
}

/// Health routes, webhooks, install links, the admin page (only with `ADMIN_TOKEN`), then the signed UI routes under `/api` with CORS; each controller
/// gets the one store it uses. Signed routes other than `/api/whoami` need an active installation of the tenant
/// (``RequireInstallationMiddleware``), except in development mode; none answers a blocked tenant
/// (``RefuseBlockedTenantMiddleware``).
func buildRouter<Storage: StorageBackend>(
    configuration: AppConfiguration,
    storage: Storage,
    signing: AppSigning,
    hooks: ApplicationHooks,
    worker: InboxWorker?,
    metrics: AppMetrics,
    local: LocalBaseURL
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    let targets = InstallTargets(configuration: configuration, local: local)
    // Rejections of anonymous traffic are logged at most ten per kind every ten seconds.
    let rejections = LogSampler()
    // Outermost first: the metrics see the final status; CORS must see every /api response, so errors are turned
    // into responses inside it.
    // Outermost of all when traces are on: the request's span covers everything below it.
    if configuration.isTracingEnabled {
        // When the bootstrapped tracer is ours (`OTLPExporter.bootstrap(for:)`, what `serve` does), the requests
        // it keeps are recorded with it directly, looked up once here rather than at each span.
        let kept = (InstrumentationSystem.tracer as? HeadSampledTracer<OTLPTracer>)?.wrapped
        router.add(middleware: RequestTracingMiddleware(sampling: configuration.traceSampling, tracer: kept))
    }
    router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
    router.add(middleware: SecurityHeadersMiddleware())
    // The older Private Network Access preflight is answered only by a backend on a loopback or private address.
    // A preflight names the methods the UI routes accept, known once every route below is registered.
    let uiMethods = UIRouteMethods([.get, .post])
    router.add(
        middleware: UIRouteCORSMiddleware(
            methods: uiMethods, allowsPrivateNetwork: LocalNetwork.isLocal(host: configuration.bindHost)))
    router.add(middleware: JSONErrorMiddleware())
    // One line per request at debug, its path without the query (install callbacks carry codes and states there);
    // signed routes log one info line with the tenant once they are answered.
    router.add(middleware: RequestLogMiddleware(.debug))
    HealthController(checkStorage: { try await storage.checkHealth() }).register(on: router)
    MetricsController(metrics: metrics, token: configuration.metricsToken, now: hooks.now, rejections: rejections)
        .register(on: router)
    WebhookController(
        configuration: configuration, signing: signing, inbox: storage.inbox, now: hooks.now, worker: worker,
        rejections: rejections, metrics: metrics
    ).register(on: router)
    InstallController(
        configuration: configuration,
        states: storage.installStates,
        installations: storage.installations,
        signing: signing,
        hooks: hooks,
        oauthTokens: oauthTokens(
            configuration: configuration, credentials: storage.credentials, now: hooks.now,
            observer: metrics.stripeAPIObserver),
        rejections: rejections,
        limiter: ClientRateLimiter(perMinute: configuration.installRateLimitPerMinute, date: hooks.now),
        worker: worker,
        metrics: metrics,
        targets: targets
    ).register(on: router)
    if configuration.usesLocalMarketplace {
        DevelopmentStandInController(targets: targets, states: storage.installStates, signing: signing, now: hooks.now)
            .register(on: router)
    }
    var tickets = InstallTickets(
        states: storage.installStates, installations: storage.installations, configuration: configuration,
        now: hooks.now)
    tickets.publicURL = { targets.publicURL }
    InstallTicketController(
        tickets: tickets,
        token: configuration.appServerToken,
        rejections: rejections
    ).register(on: router)
    AdminRoutes.register(
        on: router, configuration: configuration, storage: storage, now: hooks.now, worker: worker)
    let api = router.group("api")
        .add(
            middleware: StripeSignatureMiddleware(
                signing: signing, rejections: rejections, metrics: metrics,
                isTraced: configuration.isTracingEnabled, explainsFailures: configuration.isDevelopmentMode)
        )
        .group(context: VerifiedRequestContext.self)
    // Nothing is served to a tenant an operator blocked, not even who it is.
    let refuseBlocked = RefuseBlockedTenantMiddleware(installations: storage.installations, rejections: rejections)
    WhoAmIController(installations: storage.installations).register(on: api.group().add(middleware: refuseBlocked))
    // Every other signed route reaches a tenant's data: only while the app is installed there (and not blocked).
    let tenantRoutes = api.group()
    if configuration.isDevelopmentMode {
        tenantRoutes.add(middleware: refuseBlocked)
    } else {
        tenantRoutes.add(
            middleware: RequireInstallationMiddleware(installations: storage.installations, rejections: rejections))
    }
    SettingsController(store: storage.settings, maximumDocumentBytes: configuration.maximumSettingsBytes)
        .register(on: tenantRoutes)
    hooks.configureAPI(tenantRoutes)
    uiMethods.set(from: router)
    // After the methods are taken: these answer 405, they are not methods the routes accept.
    router.methodNotAllowed("api/whoami", allowed: [.post])
    router.methodNotAllowed("api/settings", allowed: [.get, .post])
    return router
}

/// The worker that runs the built-in install lifecycle and the app's event handlers over the inbox, with the
/// retry policy, lease and concurrency of the configuration.
public func inboxWorker<Storage: StorageBackend>(
    configuration: AppConfiguration,
    storage: Storage,
    hooks: ApplicationHooks,
    logger: Logger
) -> InboxWorker {
    // The lifecycle runs first, so the app's handlers of an install see the installation recorded.
    var handlers = EventHandlers()
    hooks.lifecycle.register(in: &handlers, installations: storage.installations, now: hooks.now)
    InstallFollowUps.register(
        in: &handlers, installations: storage.installations, onInstall: hooks.onInstall, now: hooks.now)
    handlers.add(hooks.eventHandlers)
    return InboxWorker(
        inbox: storage.inbox,
        handlers: handlers,
        installations: storage.installations,
        policy: configuration.eventRetryPolicy,
        options: configuration.workerOptions,
        now: hooks.now,
        logger: logger
    )
}

/// The OAuth token keeper the install callback exchanges codes with, when the configuration allows one: a
/// secret key to authenticate the exchange and `ENCRYPTION_KEYS` to keep the tokens.
func oauthTokens(
    configuration: AppConfiguration,
    credentials: some CredentialStore,
    now: @escaping @Sendable () -> Date,
    observer: StripeAPIObserver = .none
) -> OAuthTokens? {
    guard let cipher = configuration.credentialCipher, !configuration.stripeSecretKeys.isEmpty,
        let api = try? configuration.stripeAPI(observer: observer)
    else { return nil }
    return OAuthTokens(
        api: api, credentials: TenantCredentials(store: credentials, cipher: cipher, now: now), now: now)
}
