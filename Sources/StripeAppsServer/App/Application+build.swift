public import Foundation
public import Hummingbird
public import Logging
public import ServiceLifecycle
public import StripeApps
import StripeAppsAPI

/// What the composition root needs beyond the configuration: hooks for tests and for apps built on the package.
public struct ApplicationHooks: Sendable {
    /// The clock the signature verifier uses.
    public var now: @Sendable () -> Date
    /// Extra services to run with the server (database clients, workers).
    public var services: [any Service]
    /// Called once the server listens, with the port it got.
    public var onServerRunning: @Sendable (_ port: Int) async -> Void
    /// Adds the app's own signed UI routes under `/api`; handlers get a ``VerifiedRequestContext``.
    public var configureAPI: @Sendable (RouterGroup<VerifiedRequestContext>) -> Void
    /// Runs after an install callback recorded the installation (create the user's account on your side…).
    public var onInstall: @Sendable (InstallCompletion) async throws -> Void
    /// The app's handlers of stored webhook events, by type.
    public var eventHandlers: EventHandlers
    /// Install and uninstall hooks run by the built-in `account.application.*` handlers.
    public var lifecycle: InstallLifecycle
    /// How failed event handlers are retried.
    public var retryPolicy: InboxWorker.RetryPolicy

    /// Creates hooks; every one is optional.
    public init(
        now: @escaping @Sendable () -> Date = { Date() },
        services: [any Service] = [],
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in },
        configureAPI: @escaping @Sendable (RouterGroup<VerifiedRequestContext>) -> Void = { _ in },
        onInstall: @escaping @Sendable (InstallCompletion) async throws -> Void = { _ in },
        eventHandlers: EventHandlers = EventHandlers(),
        lifecycle: InstallLifecycle = InstallLifecycle(),
        retryPolicy: InboxWorker.RetryPolicy = .default
    ) {
        self.now = now
        self.services = services
        self.onServerRunning = onServerRunning
        self.configureAPI = configureAPI
        self.onInstall = onInstall
        self.eventHandlers = eventHandlers
        self.lifecycle = lifecycle
        self.retryPolicy = retryPolicy
    }
}

/// Builds the backend exactly as `stripe-apps-backend serve` runs it; tests call it with an in-memory store.
///
/// - Parameters:
///   - configuration: The configuration.
///   - store: The storage, already migrated.
///   - logger: The application logger; one labelled `stripe-apps-backend` at the configured level when `nil`.
///   - hooks: Clock, extra services and extra routes.
/// - Returns: The application; run it with `runService()`, which shuts down gracefully on SIGTERM and SIGINT
///   and lets requests in flight finish.
/// - Throws: When the development secret cannot be read or stored.
public func buildApplication(
    configuration: AppConfiguration,
    store: some AppStore,
    logger: Logger? = nil,
    hooks: ApplicationHooks = ApplicationHooks()
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "stripe-apps-backend")
    if logger.logLevel > configuration.logLevel || logger.logLevel == .info { logger.logLevel = configuration.logLevel }
    let keyring = try await appKeyring(configuration: configuration, store: store)
    let worker = inboxWorker(store: store, hooks: hooks, logger: logger)
    let router = buildRouter(
        configuration: configuration, store: store, appKeyring: keyring, hooks: hooks, worker: worker)
    let host = configuration.bindHost
    if configuration.isDevelopmentMode, configuration.host != host {
        logger.warning("development mode binds to 127.0.0.1 only; HOST is ignored until STRIPE_APP_SECRETS is set")
    }
    let onServerRunning = hooks.onServerRunning
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: configuration.port), serverName: "stripe-apps-backend"),
        services: hooks.services + [worker],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// Builds the router: health routes, then the signed UI routes under `/api` with CORS.
///
/// - Parameters:
///   - configuration: The configuration (limits, tolerance).
///   - store: The storage.
///   - appKeyring: The app signing secrets (the development secret in development mode).
///   - hooks: The clock and the app's own routes.
public func buildRouter(
    configuration: AppConfiguration,
    store: some AppStore,
    appKeyring: SigningKeyring,
    hooks: ApplicationHooks = ApplicationHooks(),
    worker: InboxWorker? = nil
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    // Outermost first: CORS must see every /api response, so errors are turned into responses inside it.
    router.add(middleware: UIRouteCORSMiddleware())
    router.add(middleware: JSONErrorMiddleware())
    // One line per request at debug; signed routes log one info line with the tenant once they are answered.
    router.add(middleware: LogRequestsMiddleware(.debug))
    HealthController(store: store).register(on: router)
    WebhookController(configuration: configuration, store: store, now: hooks.now, worker: worker).register(on: router)
    InstallController(
        configuration: configuration,
        store: store,
        appKeyring: appKeyring,
        hooks: hooks,
        oauthTokens: oauthTokens(configuration: configuration, store: store, now: hooks.now)
    ).register(on: router)
    router.methodNotAllowed("api/whoami", allowed: [.post])
    router.methodNotAllowed("api/settings", allowed: [.get, .post])

    let verifier = SignatureVerifier(
        keyring: appKeyring,
        tolerance: configuration.signatureTolerance,
        maximumPayloadBytes: configuration.maximumBodyBytes,
        now: hooks.now
    )
    let api = router.group("api")
        .add(middleware: StripeSignatureMiddleware(verifier: verifier))
        .group(context: VerifiedRequestContext.self)
    WhoAmIController(store: store).register(on: api)
    SettingsController(store: store, maximumDocumentBytes: configuration.maximumSettingsBytes).register(on: api)
    hooks.configureAPI(api)
    return router
}

/// The worker that runs the built-in install lifecycle and the app's event handlers over the inbox.
public func inboxWorker(store: some AppStore, hooks: ApplicationHooks, logger: Logger) -> InboxWorker {
    // The lifecycle runs first, so the app's handlers of an install see the installation recorded.
    var handlers = EventHandlers()
    hooks.lifecycle.register(in: &handlers, store: store, now: hooks.now)
    handlers.add(hooks.eventHandlers)
    return InboxWorker(store: store, handlers: handlers, policy: hooks.retryPolicy, now: hooks.now, logger: logger)
}

/// The app signing secrets to verify UI calls with: the configured ones, or in development mode a local
/// secret generated once and kept in the store, so restarts keep working signatures.
public func appKeyring(configuration: AppConfiguration, store: some AppStore) async throws -> SigningKeyring {
    if let secrets = configuration.appSecrets { return secrets }
    let secret = try await developmentSecret(in: store)
    return try SigningKeyring([SigningSecret(secret, label: "development")])
}

/// The metadata key of the development app secret.
public let developmentSecretKey = "development_app_secret"

/// Reads the development secret, creating it on first use (`absec_dev_` and 32 random bytes in hex).
public func developmentSecret(in store: some AppStore) async throws -> String {
    var generator = SystemRandomNumberGenerator()
    let random = (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }
        .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    return try await store.metadataValue(forKey: developmentSecretKey, insertingIfMissing: "absec_dev_" + random)
}

/// The OAuth token keeper the install callback exchanges codes with, when the configuration allows one: a
/// secret key to authenticate the exchange and `ENCRYPTION_KEYS` to keep the tokens.
func oauthTokens(configuration: AppConfiguration, store: any AppStore, now: @escaping @Sendable () -> Date)
    -> OAuthTokens?
{
    guard let cipher = configuration.credentialCipher, !configuration.stripeSecretKeys.isEmpty,
        let api = try? configuration.stripeAPI()
    else { return nil }
    return OAuthTokens(api: api, credentials: TenantCredentials(store: store, cipher: cipher, now: now), now: now)
}
