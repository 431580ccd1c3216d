public import Configuration
import Foundation
import HTTPTypes
public import Logging
public import StripeApps
public import StripeAppsAPI

/// Everything `serve` needs, read with swift-configuration.
///
/// | Key (environment variable) | Default | Meaning |
/// |---|---|---|
/// | `STRIPE_APP_ID` | none | the app id from `stripe-app.json` |
/// | `STRIPE_APP_SECRETS` | none: development mode | comma-separated app signing secrets (`absec_…`), all accepted |
/// | `STRIPE_WEBHOOK_SECRETS_LIVE` | none | comma-separated secrets (`whsec_…`) of the live-mode endpoint, `/webhooks/live` |
/// | `STRIPE_WEBHOOK_SECRETS_TEST` | none | comma-separated secrets of the test-mode endpoint, `/webhooks/test` |
/// | `HOST` | `127.0.0.1` | address to bind; forced to `127.0.0.1` in development mode |
/// | `PORT` | `8080` | port to bind (`0` picks a free one) |
/// | `PUBLIC_URL` | none | the public `https://` base URL of the backend |
/// | `DATABASE_URL` | `sqlite:stripe-apps.sqlite` | `sqlite:PATH`, `sqlite::memory:` or `postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=…` |
/// | `DATABASE_POOL_SIZE` | `10` | the most PostgreSQL connections of one instance |
/// | `DATABASE_CONNECT_TIMEOUT_SECONDS` | `10` | how long a PostgreSQL connection attempt may take |
/// | `DATABASE_TIMEOUT_SECONDS` | `5` | the longest a PostgreSQL store operation may take before it fails as unavailable (503) |
/// | `DATABASE_PREPARED_STATEMENTS` | `on` | `off` behind a pooler that does not keep prepared statements (PgBouncer before 1.21) |
/// | `SIGNATURE_TOLERANCE_SECONDS` | `300` | the two-sided time window of signatures (at least 1) |
/// | `MAX_BODY_BYTES` | `1048576` | the largest request body, refused before hashing |
/// | `SETTINGS_MAX_BYTES` | `16384` | the largest settings document of a tenant |
/// | `INSTALLATION_CACHE_SECONDS` | `2` | how long the SQLite store reuses an installation record it read (0: off) |
/// | `EVENT_RETRY_WINDOW_HOURS` | `72` | how long a failing event stays retryable at least (Stripe's own 3 days) |
/// | `EVENT_MAX_ATTEMPTS` | from the window (101) | runs of a failing event's handlers before it is dead (replay to run it again); overrides the window |
/// | `EVENT_RETRY_BASE_SECONDS` | `2` | the delay before the first retry; it doubles per attempt (±20 % jitter) |
/// | `EVENT_RETRY_MAX_SECONDS` | `3600` | the longest delay between retries |
/// | `EVENT_LEASE_SECONDS` | `60` | how long a worker holds a claimed event without a heartbeat before another may run it |
/// | `EVENT_CONCURRENCY` | `16` | event handlers one instance runs at once (the events of one tenant one after the other) |
/// | `EVENT_HANDLER_TIMEOUT_SECONDS` | `300` | the longest one run of an event's handlers may take before it fails and is retried |
/// | `HTTP_HEADER_TIMEOUT_SECONDS` | `10` | a request head must arrive whole within this from its first byte |
/// | `HTTP_BODY_TIMEOUT_SECONDS` | `30` | a request body must arrive whole within this from the end of its head |
/// | `HTTP_IDLE_TIMEOUT_SECONDS` | `60` | a keep-alive connection that sends nothing for this long is closed |
/// | `MAX_CONNECTIONS` | `1000` | connections served at once; more wait to be accepted |
/// | `INSTALL_RATE_LIMIT_PER_MINUTE` | `30` | `/install` and `/install/callback` requests per client address and minute |
/// | `CLIENT_ADDRESS_HEADER` | none | behind a reverse proxy: the header carrying the client address (`X-Forwarded-For`: its last entry) |
/// | `EVENT_RETENTION_DAYS` | `30` | how long finished events keep their payload (the id stays, for deduplication) |
/// | `APP_SERVER_TOKEN` | none | the bearer token of the app's own server on `POST /install/tickets` and `POST /install/links` (32+ characters) |
/// | `METRICS_TOKEN` | none | the bearer token `GET /metrics` requires (32+ characters); open without it |
/// | `OTEL_EXPORTER_OTLP_ENDPOINT` | none | where traces go (OTLP/HTTP); traces are off without it. The other `OTEL_*` variables are in ``OTLPExportConfiguration`` |
/// | `EVENT_RECOVERY_HOURS` | `24` | how often each installation's undelivered events are fetched from the Events API (0: off; needs Stripe access) |
/// | `JOB_CONCURRENCY` | `16` | jobs one instance runs at once (as `EVENT_CONCURRENCY`) |
/// | `JOB_LEASE_SECONDS` | `60` | how long a worker holds a claimed job without a heartbeat (every third of it) |
/// | `JOB_RETENTION_DAYS` | `31` | how long succeeded, cancelled and dead jobs stay listed (and replayable) after they finished |
/// | `INSTANCE_ID` | host:pid:random | the name this instance claims events under (shown on running events) |
/// | `STRIPE_SECRET_KEY_LIVE` | none | the developer's live secret key (`sk_live_…`): platform apps' calls, OAuth exchanges |
/// | `STRIPE_SECRET_KEY_TEST` | none | the developer's test secret key (`sk_test_…`) |
/// | `STRIPE_API_BASE_URL` | `https://api.stripe.com` | where Stripe API calls go (a fake Stripe in tests) |
/// | `STRIPE_API_VERSION` | `2025-02-24.acacia` | the pinned `Stripe-Version` of every call |
/// | `ENCRYPTION_KEYS` | none | comma-separated base64 32-byte keys sealing tenant credentials at rest; the first seals |
/// | `LOG_FORMAT` | `json` | `json` (one JSON object per line) or `text` (swift-log's plain layout) |
/// | `LOG_LEVEL` | `info` | `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical` |
///
/// The admin page's settings (`ADMIN_TOKEN`, `ADMIN_READONLY_TOKEN`, …) are in ``AdminConfiguration``.
///
/// Keys are read in dotted form (`stripe.app.secrets`), which the environment provider maps to the names above.
public struct AppConfiguration: Sendable {
    /// The app id, when configured.
    public var appID: String?
    /// The app signing secrets; `nil` means development mode.
    public var appSecrets: SigningKeyring?
    /// The secrets of the live-mode webhook endpoint; `nil` when not configured (the endpoint answers 503).
    public var webhookSecretsLive: SigningKeyring?
    /// The secrets of the test-mode webhook endpoint.
    public var webhookSecretsTest: SigningKeyring?
    /// The address to bind.
    public var host: String
    /// The port to bind; 0 for any free port.
    public var port: Int
    /// The public base URL.
    public var publicURL: String?
    /// Where the data lives.
    public var databaseURL: String
    /// The signature time window.
    public var signatureTolerance: SignatureTolerance
    /// The request body limit.
    public var maximumBodyBytes: Int
    /// The settings document limit.
    public var maximumSettingsBytes: Int
    /// How long the SQLite store reuses an installation record it read; 0 turns the cache off.
    public var installationCacheSeconds: Int
    /// Runs of a failing event's handlers before the event is dead; `nil`: as many as
    /// ``eventRetryWindowHours`` takes.
    public var eventMaxAttempts: Int?
    /// How long a failing event stays retryable at least, in hours (72, Stripe's own window, by default).
    public var eventRetryWindowHours = 72
    /// The delay before the first retry of a failed event, in seconds.
    public var eventRetryBaseSeconds = 2
    /// The longest delay between retries, in seconds.
    public var eventRetryMaxSeconds = 3600
    /// How long a claimed event's lease lasts without a heartbeat, in seconds.
    public var eventLeaseSeconds = 60
    /// How many event handlers run at once on this instance.
    public var eventConcurrency = 16
    /// The longest one run of an event's handlers may take, in seconds (`EVENT_HANDLER_TIMEOUT_SECONDS`).
    public var eventHandlerTimeoutSeconds = 300
    /// How long a request head may take from its first byte, in seconds (`HTTP_HEADER_TIMEOUT_SECONDS`).
    public var httpHeaderTimeoutSeconds = 10
    /// How long a request body may take from the end of its head, in seconds (`HTTP_BODY_TIMEOUT_SECONDS`).
    public var httpBodyTimeoutSeconds = 30
    /// How long a connection may send nothing, between requests or while sending one (`HTTP_IDLE_TIMEOUT_SECONDS`).
    public var httpIdleTimeoutSeconds = 60
    /// The most connections served at once (`MAX_CONNECTIONS`); further ones wait in the accept queue.
    public var maximumConnections = 1000
    /// `/install` and `/install/callback` requests one client address may make per minute
    /// (`INSTALL_RATE_LIMIT_PER_MINUTE`).
    public var installRateLimitPerMinute = 30
    /// The request header a trusted reverse proxy puts the client address in (`CLIENT_ADDRESS_HEADER`); `nil`: the
    /// connection's peer is the client.
    public var clientAddressHeader: String?
    /// How often each installation's undelivered events are recovered through the Events API, in hours
    /// (`EVENT_RECOVERY_HOURS`); 0 turns it off. It runs only where Stripe access is configured.
    public var eventRecoveryHours = 24
    /// How many jobs one instance runs at once (`JOB_CONCURRENCY`).
    public var jobConcurrency = 16
    /// How long a claimed job's lease lasts without a heartbeat, in seconds (`JOB_LEASE_SECONDS`).
    public var jobLeaseSeconds = 60
    /// How long finished (succeeded, cancelled, dead) jobs are kept after they finished, in days
    /// (`JOB_RETENTION_DAYS`): a month, so a monthly schedule's last run is still listed.
    public var jobRetentionDays = 31
    /// How long finished events keep their payload, in days (`EVENT_RETENTION_DAYS`).
    public var eventRetentionDays = 30
    /// The name the worker claims under; `nil` for host, process id and a random part.
    public var instanceID: String?
    /// The most PostgreSQL connections of one instance.
    public var databasePoolSize = 10
    /// How long a PostgreSQL connection attempt may take, in seconds.
    public var databaseConnectTimeoutSeconds = 10
    /// The longest a PostgreSQL store operation may take, in seconds.
    public var databaseTimeoutSeconds = 5
    /// Whether the hot PostgreSQL statements are prepared once per connection (`DATABASE_PREPARED_STATEMENTS`).
    public var databasePreparedStatements = true
    /// The log level.
    public var logLevel: Logger.Level
    /// Whether log lines are JSON objects (`true`, the default) or plain text.
    public var logsAsJSON: Bool
    /// Install links and their callback.
    public var install: InstallConfiguration
    /// The admin page, off unless `ADMIN_TOKEN` is set.
    public var admin = AdminConfiguration()
    /// The app manifest, when one was read (the executable reads ``InstallConfiguration/manifestPath``).
    public var manifest: AppManifest?
    /// The developer's secret keys, at most one per mode.
    public var stripeSecretKeys: [APICredential] = []
    /// Where Stripe API calls go.
    public var stripeAPIBaseURL = "https://api.stripe.com"
    /// The pinned `Stripe-Version`.
    public var stripeAPIVersion = StripeAPIConfiguration.defaultAPIVersion
    /// The cipher sealing tenant credentials, when `ENCRYPTION_KEYS` is set.
    public var credentialCipher: CredentialCipher?
    /// The bearer token the app's own server authenticates with on the server-to-server routes
    /// (`POST /install/tickets`, `POST /install/links`), when `APP_SERVER_TOKEN` is set.
    public var appServerToken: String?
    /// The bearer token `GET /metrics` requires, when `METRICS_TOKEN` is set; without it the metrics are open
    /// (`doctor` warns when `PUBLIC_URL` is https).
    public var metricsToken: String?
    /// Whether traces are exported: an OTLP endpoint is configured with the standard variables
    /// (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), and neither `OTEL_SDK_DISABLED=true`
    /// nor `OTEL_TRACES_EXPORTER=none` turns them off. `serve` then bootstraps the backend's tracer
    /// (``OTLPExporter/bootstrap(for:)``), with ``traceExport`` and ``traceSampling``.
    public var isTracingEnabled = false
    /// Where and how spans are exported (the `OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`, `OTEL_SERVICE_NAME` and
    /// `OTEL_RESOURCE_ATTRIBUTES` variables); read, and checked, only when traces are on.
    public var traceExport: OTLPExportConfiguration?
    /// Which traces are kept (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`), decided by the backend at the start
    /// of each trace (``HeadSampledTracer``); read, and checked, only when traces are on.
    public var traceSampling = TraceSampling.default

    /// The defaults: development mode on `127.0.0.1:8080`, SQLite in the working directory.
    public init(
        appID: String? = nil,
        appSecrets: SigningKeyring? = nil,
        webhookSecretsLive: SigningKeyring? = nil,
        webhookSecretsTest: SigningKeyring? = nil,
        host: String = "127.0.0.1",
        port: Int = 8080,
        publicURL: String? = nil,
        databaseURL: String = "sqlite:stripe-apps.sqlite",
        signatureTolerance: SignatureTolerance = .default,
        maximumBodyBytes: Int = SignatureVerifier.defaultMaximumPayloadBytes,
        maximumSettingsBytes: Int = 16 * 1024,
        installationCacheSeconds: Int = 2,
        eventMaxAttempts: Int? = nil,
        logLevel: Logger.Level = .info,
        logsAsJSON: Bool = true,
        install: InstallConfiguration = InstallConfiguration(),
        manifest: AppManifest? = nil
    ) {
        self.appID = appID
        self.appSecrets = appSecrets
        self.webhookSecretsLive = webhookSecretsLive
        self.webhookSecretsTest = webhookSecretsTest
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.databaseURL = databaseURL
        self.signatureTolerance = signatureTolerance
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumSettingsBytes = maximumSettingsBytes
        self.installationCacheSeconds = installationCacheSeconds
        self.eventMaxAttempts = eventMaxAttempts
        self.logLevel = logLevel
        self.logsAsJSON = logsAsJSON
        self.install = install
        self.manifest = manifest
    }

    /// The parsed ``databaseURL``.
    ///
    /// - Throws: ``ConfigurationError`` for a URL that cannot be read, and for `sqlite::memory:` outside
    ///   development mode: webhooks would get their 2xx for events that the next restart loses.
    public func database() throws -> DatabaseURL {
        let url: DatabaseURL
        do {
            url = try DatabaseURL(databaseURL)
        } catch {
            throw ConfigurationError(variable: "DATABASE_URL", problem: error.problem)
        }
        if let sqlite = url.sqlite, sqlite.path == nil, !isDevelopmentMode {
            throw ConfigurationError(
                variable: "DATABASE_URL",
                problem: "is sqlite::memory:, which keeps nothing across a restart: acknowledged webhooks and "
                    + "installations would be lost. Use sqlite:PATH or postgres://…, or leave STRIPE_APP_SECRETS unset "
                    + "for development mode")
        }
        return url
    }

    /// How failed event handlers are retried.
    public var eventRetryPolicy: InboxWorker.RetryPolicy {
        if let eventMaxAttempts {
            InboxWorker.RetryPolicy(
                maximumAttempts: eventMaxAttempts, baseDelay: TimeInterval(eventRetryBaseSeconds),
                maximumDelay: TimeInterval(eventRetryMaxSeconds))
        } else {
            InboxWorker.RetryPolicy(
                retryingFor: TimeInterval(eventRetryWindowHours) * 3600, baseDelay: TimeInterval(eventRetryBaseSeconds),
                maximumDelay: TimeInterval(eventRetryMaxSeconds))
        }
    }

    /// How the inbox worker claims and runs events.
    public var workerOptions: InboxWorker.Options {
        InboxWorker.Options(
            lease: .seconds(eventLeaseSeconds),
            concurrency: eventConcurrency,
            owner: instanceID ?? InboxWorker.defaultOwner(),
            handlerTimeout: .seconds(eventHandlerTimeoutSeconds)
        )
    }

    /// Whether no app secret is configured: the server then binds to loopback with a local development secret.
    public var isDevelopmentMode: Bool { appSecrets == nil }

    /// The address the server binds: ``host``, except `127.0.0.1` in development mode.
    public var bindHost: String { isDevelopmentMode ? "127.0.0.1" : host }

    /// Reads the configuration.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable and what is wrong with it (never its value when secret).
    public init(reader: ConfigReader) throws {
        self.init()
        appID = reader.string(forKey: "stripe.app.id").flatMap { $0.isEmpty ? nil : $0 }
        if let secrets = reader.string(forKey: "stripe.app.secrets", isSecret: true),
            !secrets.allSatisfy({ $0 == "," || $0.isWhitespace })
        {
            do {
                appSecrets = try SigningKeyring(commaSeparated: secrets)
            } catch {
                throw ConfigurationError(variable: "STRIPE_APP_SECRETS", problem: "contains no usable secret")
            }
        }
        webhookSecretsLive = try Self.keyring(reader, "stripe.webhook.secrets.live", "STRIPE_WEBHOOK_SECRETS_LIVE")
        webhookSecretsTest = try Self.keyring(reader, "stripe.webhook.secrets.test", "STRIPE_WEBHOOK_SECRETS_TEST")
        host = reader.string(forKey: "host", default: host)
        port = try Self.integer(reader, "port", "PORT", default: port, in: 0...65535)
        publicURL = reader.string(forKey: "public.url").flatMap { $0.isEmpty ? nil : $0 }
        appServerToken = try Self.bearerToken(reader, "app.server.token", "APP_SERVER_TOKEN") ?? appServerToken
        metricsToken = try Self.bearerToken(reader, "metrics.token", "METRICS_TOKEN") ?? metricsToken
        let endpoint = [
            reader.string(forKey: "otel.exporter.otlp.endpoint"),
            reader.string(forKey: "otel.exporter.otlp.traces.endpoint"),
        ].contains { !($0 ?? "").isEmpty }
        isTracingEnabled =
            endpoint && reader.string(forKey: "otel.sdk.disabled")?.lowercased() != "true"
            && reader.string(forKey: "otel.traces.exporter")?.lowercased() != "none"
        if isTracingEnabled {
            // The standard variable names, read through the same providers as every other setting.
            traceExport = try OTLPExportConfiguration { name in
                reader.string(
                    forKey: ConfigKey(name.lowercased().replacingOccurrences(of: "_", with: ".")),
                    isSecret: name.hasSuffix("HEADERS"))
            }
            traceSampling = try TraceSampling(
                sampler: reader.string(forKey: "otel.traces.sampler"),
                argument: reader.string(forKey: "otel.traces.sampler.arg"))
        }
        databaseURL = reader.string(forKey: "database.url", isSecret: true, default: databaseURL)
        _ = try database()
        databasePoolSize = try Self.integer(
            reader, "database.pool.size", "DATABASE_POOL_SIZE", default: databasePoolSize, in: 1...500)
        databaseConnectTimeoutSeconds = try Self.integer(
            reader, "database.connect.timeout.seconds", "DATABASE_CONNECT_TIMEOUT_SECONDS",
            default: databaseConnectTimeoutSeconds, in: 1...300)
        databaseTimeoutSeconds = try Self.integer(
            reader, "database.timeout.seconds", "DATABASE_TIMEOUT_SECONDS", default: databaseTimeoutSeconds,
            in: 1...300)
        switch reader.string(forKey: "database.prepared.statements", default: "on").lowercased() {
        case "on", "true", "1": databasePreparedStatements = true
        case "off", "false", "0": databasePreparedStatements = false
        default: throw ConfigurationError(variable: "DATABASE_PREPARED_STATEMENTS", problem: "must be on or off")
        }
        let tolerance = try Self.integer(
            reader,
            "signature.tolerance.seconds",
            "SIGNATURE_TOLERANCE_SECONDS",
            default: Int(signatureTolerance.seconds),
            in: 1...86_400
        )
        signatureTolerance = try SignatureTolerance(seconds: Int64(tolerance))
        maximumBodyBytes = try Self.integer(
            reader,
            "max.body.bytes",
            "MAX_BODY_BYTES",
            default: maximumBodyBytes,
            in: 1024...(64 << 20)
        )
        maximumSettingsBytes = try Self.integer(
            reader,
            "settings.max.bytes",
            "SETTINGS_MAX_BYTES",
            default: maximumSettingsBytes,
            in: 256...(1 << 20)
        )
        installationCacheSeconds = try Self.integer(
            reader,
            "installation.cache.seconds",
            "INSTALLATION_CACHE_SECONDS",
            default: installationCacheSeconds,
            in: 0...3600
        )
        if let text = reader.string(forKey: "event.max.attempts"), !text.trimmingCharacters(in: .whitespaces).isEmpty {
            eventMaxAttempts = try Self.integer(
                reader, "event.max.attempts", "EVENT_MAX_ATTEMPTS", default: 1,
                in: 1...InboxWorker.RetryPolicy.mostAttempts)
        }
        try readWorker(reader)
        let level = reader.string(forKey: "log.level", default: "info")
        guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigurationError(
                variable: "LOG_LEVEL", problem: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = parsed
        switch reader.string(forKey: "log.format", default: "json").lowercased() {
        case "json": logsAsJSON = true
        case "text": logsAsJSON = false
        default: throw ConfigurationError(variable: "LOG_FORMAT", problem: "must be json or text")
        }
        install = try InstallConfiguration(reader: reader, publicURL: publicURL)
        admin = try AdminConfiguration(reader: reader)
        try readStripeAPI(reader)
    }

    private mutating func readWorker(_ reader: ConfigReader) throws {
        eventRetryBaseSeconds = try Self.integer(
            reader, "event.retry.base.seconds", "EVENT_RETRY_BASE_SECONDS", default: eventRetryBaseSeconds,
            in: 0...3600)
        eventRetryWindowHours = try Self.integer(
            reader, "event.retry.window.hours", "EVENT_RETRY_WINDOW_HOURS", default: eventRetryWindowHours,
            in: 0...2160)
        eventRetryMaxSeconds = try Self.integer(
            reader, "event.retry.max.seconds", "EVENT_RETRY_MAX_SECONDS", default: eventRetryMaxSeconds,
            in: 0...604_800)
        eventLeaseSeconds = try Self.integer(
            reader, "event.lease.seconds", "EVENT_LEASE_SECONDS", default: eventLeaseSeconds, in: 3...3600)
        eventConcurrency = try Self.integer(
            reader, "event.concurrency", "EVENT_CONCURRENCY", default: eventConcurrency, in: 1...256)
        eventHandlerTimeoutSeconds = try Self.integer(
            reader, "event.handler.timeout.seconds", "EVENT_HANDLER_TIMEOUT_SECONDS",
            default: eventHandlerTimeoutSeconds, in: 1...86_400)
        httpHeaderTimeoutSeconds = try Self.integer(
            reader, "http.header.timeout.seconds", "HTTP_HEADER_TIMEOUT_SECONDS", default: httpHeaderTimeoutSeconds,
            in: 1...3600)
        httpBodyTimeoutSeconds = try Self.integer(
            reader, "http.body.timeout.seconds", "HTTP_BODY_TIMEOUT_SECONDS", default: httpBodyTimeoutSeconds,
            in: 1...3600)
        httpIdleTimeoutSeconds = try Self.integer(
            reader, "http.idle.timeout.seconds", "HTTP_IDLE_TIMEOUT_SECONDS", default: httpIdleTimeoutSeconds,
            in: 1...86_400)
        maximumConnections = try Self.integer(
            reader, "max.connections", "MAX_CONNECTIONS", default: maximumConnections, in: 1...1_000_000)
        installRateLimitPerMinute = try Self.integer(
            reader, "install.rate.limit.per.minute", "INSTALL_RATE_LIMIT_PER_MINUTE",
            default: installRateLimitPerMinute, in: 1...1_000_000)
        if let header = reader.string(forKey: "client.address.header")?.trimmingCharacters(in: .whitespaces),
            !header.isEmpty
        {
            guard HTTPField.Name(header) != nil else {
                throw ConfigurationError(variable: "CLIENT_ADDRESS_HEADER", problem: "is not a header name")
            }
            clientAddressHeader = header
        }
        eventRecoveryHours = try Self.integer(
            reader, "event.recovery.hours", "EVENT_RECOVERY_HOURS", default: eventRecoveryHours, in: 0...720)
        jobConcurrency = try Self.integer(
            reader, "job.concurrency", "JOB_CONCURRENCY", default: jobConcurrency, in: 1...256)
        jobLeaseSeconds = try Self.integer(
            reader, "job.lease.seconds", "JOB_LEASE_SECONDS", default: jobLeaseSeconds, in: 3...3600)
        jobRetentionDays = try Self.integer(
            reader, "job.retention.days", "JOB_RETENTION_DAYS", default: jobRetentionDays, in: 1...36_500)
        eventRetentionDays = try Self.integer(
            reader, "event.retention.days", "EVENT_RETENTION_DAYS", default: eventRetentionDays, in: 1...36_500)
        instanceID = reader.string(forKey: "instance.id").flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
    }

    /// A bearer token setting: 32 to 256 printable ASCII characters, trimmed; `nil` when unset or empty.
    static func bearerToken(_ reader: ConfigReader, _ key: ConfigKey, _ variable: String) throws -> String? {
        guard let token = reader.string(forKey: key, isSecret: true)?.trimmingCharacters(in: .whitespaces),
            !token.isEmpty
        else { return nil }
        guard token.utf8.count >= 32, token.utf8.count <= 256,
            token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            throw ConfigurationError(
                variable: variable,
                problem: "must be 32 to 256 printable ASCII characters without spaces (openssl rand -hex 32)")
        }
        return token
    }

    private mutating func readStripeAPI(_ reader: ConfigReader) throws {
        for (key, variable, mode) in [
            ("stripe.secret.key.live", "STRIPE_SECRET_KEY_LIVE", Tenant.Mode.live),
            ("stripe.secret.key.test", "STRIPE_SECRET_KEY_TEST", Tenant.Mode.test),
        ] {
            guard let value = reader.string(forKey: ConfigKey(key), isSecret: true), !value.isEmpty else { continue }
            guard let credential = try? APICredential(secretKey: value.trimmingCharacters(in: .whitespaces)),
                credential.mode == mode
            else {
                throw ConfigurationError(variable: variable, problem: "must be a \(mode) secret key (sk_\(mode)_…)")
            }
            stripeSecretKeys.append(credential)
        }
        stripeAPIBaseURL = reader.string(forKey: "stripe.api.base.url", default: stripeAPIBaseURL)
        guard let url = URL(string: stripeAPIBaseURL), url.scheme == "https" || url.scheme == "http", url.host != nil
        else {
            throw ConfigurationError(variable: "STRIPE_API_BASE_URL", problem: "must be an http(s) URL")
        }
        stripeAPIVersion = reader.string(forKey: "stripe.api.version", default: stripeAPIVersion)
        if let keys = reader.string(forKey: "encryption.keys", isSecret: true), !keys.isEmpty {
            do {
                credentialCipher = try CredentialCipher(base64Keys: keys)
            } catch {
                throw ConfigurationError(variable: "ENCRYPTION_KEYS", problem: "\(error.message)")
            }
        }
    }

    /// The Stripe API entry point this configuration describes (keys, base URL, pinned version).
    ///
    /// - Parameter observer: Told of each attempt and OAuth refresh (the server passes its metrics').
    public func stripeAPI(
        logger: Logger = Logger(label: "stripe-apps.api"), observer: StripeAPIObserver = .none
    ) throws -> StripeAPI {
        try StripeAPI(
            configuration: StripeAPIConfiguration(
                baseURL: stripeAPIBaseURL, apiVersion: stripeAPIVersion, observer: observer),
            secretKeys: stripeSecretKeys,
            logger: logger
        )
    }

    /// The redirect URIs install links may use: the manifest's `allowed_redirect_uris` and `ALLOWED_REDIRECT_URIS`.
    public var allowedRedirectURIs: [String] {
        (manifest?.allowedRedirectURIs ?? []) + install.configuredRedirectURIs
    }

    private static func keyring(_ reader: ConfigReader, _ key: ConfigKey, _ variable: String) throws -> SigningKeyring?
    {
        guard let value = reader.string(forKey: key, isSecret: true),
            !value.allSatisfy({ $0 == "," || $0.isWhitespace })
        else { return nil }
        do {
            return try SigningKeyring(commaSeparated: value)
        } catch {
            throw ConfigurationError(variable: variable, problem: "contains no usable secret")
        }
    }

    private static func integer(
        _ reader: ConfigReader,
        _ key: ConfigKey,
        _ variable: String,
        default defaultValue: Int,
        in range: ClosedRange<Int>
    ) throws -> Int {
        guard let text = reader.string(forKey: key) else { return defaultValue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(
                variable: variable,
                problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")"
            )
        }
        return value
    }
}

/// A configuration value that cannot be used; the message names the variable, never a secret value.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The environment variable at fault.
    public let variable: String
    /// What is wrong with it.
    public let problem: String

    /// Creates an error.
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "\(variable) \(problem)" }
}
