import Foundation
import Logging
import StripeApps
import StripeAppsPostgres
import StripeAppsSQLite
import StripeAppsServer

/// The storage backend `DATABASE_URL` picks: the one place the executable turns the URL into a backend.
enum SelectedStorage {
    case sqlite(SQLiteStorage)
    case postgres(PostgresStorage)

    /// Opens the backend; nothing runs or migrates yet.
    ///
    /// - Throws: ``StripeAppsServer/ConfigurationError`` for `DATABASE_URL` when the URL cannot be used.
    static func open(_ configuration: AppConfiguration, logger: Logger = commandLogger) throws -> SelectedStorage {
        try open(configuration.database(), configuration: configuration, logger: logger)
    }

    /// Opens the backend a parsed URL names, with the pool settings of `configuration`.
    static func open(_ url: DatabaseURL, configuration: AppConfiguration, logger: Logger = commandLogger) throws
        -> SelectedStorage
    {
        if let postgres = url.postgres {
            return .postgres(
                try PostgresStorage(
                    configuration: .init(
                        location: postgres,
                        maximumConnections: configuration.databasePoolSize,
                        connectTimeout: .seconds(configuration.databaseConnectTimeoutSeconds),
                        operationTimeout: .seconds(configuration.databaseTimeoutSeconds),
                        preparesStatements: configuration.databasePreparedStatements
                    ),
                    logger: logger
                )
            )
        }
        if let sqlite = url.sqlite {
            return .sqlite(
                try SQLiteStorage(
                    location: sqlite,
                    installationCacheLifetime: .seconds(configuration.installationCacheSeconds)
                )
            )
        }
        throw ConfigurationError(variable: "DATABASE_URL", problem: "names no storage backend")
    }

    /// Runs the backend, migrates it, and gives `body` its stores; stops the backend when `body` returns.
    func withMigrated<R: Sendable>(_ body: (StorageHandles) async throws -> R) async throws -> R {
        switch self {
        case .sqlite(let storage): try await Self.withMigrated(storage, body)
        case .postgres(let storage): try await Self.withMigrated(storage, body)
        }
    }

    /// Runs the backend and applies the migrations not applied yet; returns those, and every applied one.
    func migrate() async throws -> (new: [String], all: [String]) {
        switch self {
        case .sqlite(let storage): try await Self.migrate(storage)
        case .postgres(let storage): try await Self.migrate(storage)
        }
    }

    private static func migrate<Backend: StorageBackend>(_ storage: Backend) async throws -> (
        new: [String], all: [String]
    ) {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await storage.run() }
            defer { group.cancelAll() }
            // A new database has no record of migrations yet (or no table for it): nothing was applied.
            let before = Set((try? await storage.appliedMigrations()) ?? [])
            try await storage.migrate()
            let all = try await storage.appliedMigrations()
            return (all.filter { !before.contains($0) }, all)
        }
    }

    private static func withMigrated<Backend: StorageBackend, R: Sendable>(
        _ storage: Backend,
        _ body: (StorageHandles) async throws -> R
    ) async throws -> R {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await storage.run() }
            defer { group.cancelAll() }
            try await storage.migrate()
            return try await body(StorageHandles(storage))
        }
    }
}

/// The role stores of a running backend, for the commands that inspect or change storage.
struct StorageHandles: Sendable {
    let installations: any InstallationStore
    let inbox: any EventInbox
    let credentials: any CredentialStore
    let metadata: any MetadataStore
    let jobs: any JobQueue
    let schedules: any ScheduleStore
    let admin: any AdminStore
    let appliedMigrations: @Sendable () async throws -> [String]

    init<Backend: StorageBackend>(_ storage: Backend) {
        installations = storage.installations
        inbox = storage.inbox
        credentials = storage.credentials
        metadata = storage.metadata
        jobs = storage.jobs
        schedules = storage.schedules
        admin = storage.admin
        appliedMigrations = { try await storage.appliedMigrations() }
    }
}

/// The logger of commands other than `serve`: warnings and errors only, on standard error.
let commandLogger: Logger = {
    var logger = Logger(label: "stripe-apps-backend")
    logger.logLevel = .warning
    return logger
}()

/// Opens the storage `DATABASE_URL` names, migrated, for the length of `body`.
///
/// Only `serve` and `migrate` may create a database (`creating`); any other command that finds no SQLite file
/// where the configuration points fails with `database_not_found` and the absolute path it looked at, instead of
/// quietly working on a new, empty database (with a new development secret) in whatever folder it runs from.
func withConfiguredStorage<R: Sendable>(
    _ configuration: AppConfiguration,
    creating: Bool = false,
    _ body: (StorageHandles) async throws -> R
) async throws -> R {
    let url = try configuration.database()
    if !creating, let sqlite = url.sqlite, let path = sqlite.path, !FileManager.default.fileExists(atPath: path) {
        throw CommandError(
            "database_not_found",
            """
            there is no database at \(absolutePath(path)) (DATABASE_URL=\(configuration.databaseURL)). Point this \
            command at the server's database: --database-url sqlite:/absolute/path, --config with the server's \
            file, or DATABASE_URL; `serve` prints the options of its database when it starts.
            """)
    }
    return try await SelectedStorage.open(url, configuration: configuration).withMigrated(body)
}

extension AppConfiguration {
    /// `DATABASE_URL` as messages may show it: a PostgreSQL password masked.
    var shownDatabaseURL: String { (try? database().description) ?? "DATABASE_URL" }
}
