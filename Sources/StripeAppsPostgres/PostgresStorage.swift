import Foundation
public import Logging
import NIOSSL
import PostgresNIO
public import ServiceLifecycle
public import StripeApps

/// A ``StripeApps/StorageBackend`` on PostgreSQL, through postgres-nio's `PostgresClient`: for several
/// instances of the backend on one database.
///
/// As a `Service` it runs the connection pool, and a listener that wakes this instance's worker when another
/// instance stored an event (`LISTEN`/`NOTIFY`, a wake-up only: the worker polls every second anyway, so
/// nothing depends on a session surviving a pooler). Claims use `FOR NO KEY UPDATE SKIP LOCKED` and lease
/// times from the database clock; migrations run under a transaction-scoped advisory lock.
public final class PostgresStorage: StorageBackend, Service {
    /// Where and how to connect.
    public struct Configuration: Sendable {
        /// The server, database, role and TLS mode, from a `postgres://` URL.
        public var location: DatabaseURL.Postgres
        /// The most connections this instance opens (`DATABASE_POOL_SIZE`, 10).
        public var maximumConnections: Int
        /// How long a connection attempt may take (`DATABASE_CONNECT_TIMEOUT_SECONDS`, 10 s).
        public var connectTimeout: Duration
        /// The longest one store operation may take, waiting for a connection included
        /// (`DATABASE_TIMEOUT_SECONDS`, 5 s): past it, the operation fails as unavailable (a webhook answers 503).
        public var operationTimeout: Duration
        /// The `application_name` the server shows for these connections.
        public var applicationName: String
        /// Whether the statement every webhook delivery runs (the inbox's insert) is prepared once per connection,
        /// so that PostgreSQL parses and plans it once rather than for each batch
        /// (`DATABASE_PREPARED_STATEMENTS`, on). Turn it off behind a pooler that does not keep prepared statements
        /// across transactions (PgBouncer before 1.21, or without `max_prepared_statements`).
        public var preparesStatements: Bool

        /// Creates a configuration.
        public init(
            location: DatabaseURL.Postgres,
            maximumConnections: Int = 10,
            connectTimeout: Duration = .seconds(10),
            operationTimeout: Duration = .seconds(5),
            applicationName: String = "stripe-apps-backend",
            preparesStatements: Bool = true
        ) {
            self.location = location
            self.maximumConnections = maximumConnections
            self.connectTimeout = connectTimeout
            self.operationTimeout = operationTimeout
            self.applicationName = applicationName
            self.preparesStatements = preparesStatements
        }
    }

    let database: PostgresDatabase
    private let wakeUps = WakeUpHandlers()
    private let running = RunGate()

    /// Creates the storage; nothing connects until ``run()`` runs.
    ///
    /// - Throws: ``StripeApps/StoreError/Code/unavailable`` when the TLS settings cannot be used (an unreadable
    ///   `sslrootcert`).
    public init(configuration: Configuration, logger: Logger = Logger(label: "stripe-apps.postgres")) throws {
        let location = configuration.location
        var client = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.username,
            password: location.password,
            database: location.database,
            tls: try Self.tls(location)
        )
        client.options.maximumConnections = configuration.maximumConnections
        client.options.connectTimeout = configuration.connectTimeout
        client.options.additionalStartupParameters = [("application_name", configuration.applicationName)]
        // The pool logs every failed connection attempt at info, and warns when the first request races the
        // start of `run()` (harmless: the request waits): keep its background lines to errors unless the
        // application logs at debug. Store operations report failures themselves.
        var background = logger
        if background.logLevel > .debug { background.logLevel = max(background.logLevel, .error) }
        database = PostgresDatabase(
            client: PostgresClient(configuration: client, backgroundLogger: background), logger: logger,
            timeout: configuration.operationTimeout, preparesStatements: configuration.preparesStatements)
    }

    /// libpq's `sslmode` in postgres-nio's terms.
    private static func tls(_ location: DatabaseURL.Postgres) throws -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let path = location.rootCertificatePath {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw StoreError(.unavailable, message: "Cannot read the CA certificates of sslrootcert.")
            }
        }
        switch location.sslMode {
        case .disable: return .disable
        case .verifyFull: return .require(tls)
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case .require:
            tls.certificateVerification = .none
            return .require(tls)
        default:
            tls.certificateVerification = .none
            return .prefer(tls)
        }
    }

    public var installations: PostgresInstallationStore { PostgresInstallationStore(database: database) }
    public var settings: PostgresSettingsStore { PostgresSettingsStore(database: database) }
    public var installStates: PostgresInstallStateStore { PostgresInstallStateStore(database: database) }
    public var credentials: PostgresCredentialStore { PostgresCredentialStore(database: database) }
    public var metadata: PostgresMetadataStore { PostgresMetadataStore(database: database) }
    public var inbox: PostgresEventInbox { PostgresEventInbox(database: database) }
    public var jobs: PostgresJobQueue { PostgresJobQueue(database: database) }
    public var schedules: PostgresJobQueue { PostgresJobQueue(database: database) }
    public var admin: PostgresAdminStore { PostgresAdminStore(database: database) }
    public var statistics: PostgresStatistics { PostgresStatistics(database: database) }

    /// Runs the connection pool and the wake-up listener until cancelled or shut down.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    self.running.open()
                    await self.database.client.run()
                }
                group.addTask { await self.listen() }
            }
        }
    }

    /// Listens for events stored by other instances, reconnecting after a failure, until cancelled.
    private func listen() async {
        await running.wait()
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: PostgresDatabase.inboxChannel) { notifications in
                        for try await _ in notifications { wakeUps.fire() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                database.logger.debug("inbox listener reconnecting", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    public func onEventsStoredElsewhere(_ wake: @escaping @Sendable () -> Void) {
        wakeUps.add(wake)
    }

    /// Applies the migrations; waits until ``run()`` has started the connection pool.
    public func migrate() async throws {
        await running.wait()
        try await PostgresMigrations.migrate(database)
    }

    public func appliedMigrations() async throws -> [String] {
        try await PostgresMigrations.applied(database)
    }

    /// `SELECT 1`, given at most 2 s, so `/readyz` answers quickly while the database is unreachable.
    public func checkHealth() async throws {
        let database = database
        try await Deadline.run(.seconds(2)) { _ = try await database.rows("SELECT 1", as: Int.self) }
    }
}
