import StripeApps
import StripeAppsSQLite
import StripeAppsServer

/// The storage backend `DATABASE_URL` picks: the one place the executable turns the URL into a backend.
enum SelectedStorage {
    case sqlite(SQLiteStorage)

    /// Opens the backend; nothing runs or migrates yet.
    ///
    /// - Throws: ``StripeAppsServer/ConfigurationError`` for `DATABASE_URL` when the URL cannot be used.
    static func open(_ configuration: AppConfiguration) throws -> SelectedStorage {
        let url = try configuration.database()
        if let sqlite = url.sqlite {
            return .sqlite(
                try SQLiteStorage(
                    location: sqlite,
                    installationCacheLifetime: .seconds(configuration.installationCacheSeconds)
                )
            )
        }
        throw ConfigurationError(
            variable: "DATABASE_URL", problem: "names PostgreSQL, which this build does not include yet")
    }

    /// Runs the backend, migrates it, and gives `body` its stores; stops the backend when `body` returns.
    func withMigrated<R: Sendable>(_ body: (StorageHandles) async throws -> R) async throws -> R {
        switch self {
        case .sqlite(let storage): try await Self.withMigrated(storage, body)
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
    let appliedMigrations: @Sendable () async throws -> [String]

    init<Backend: StorageBackend>(_ storage: Backend) {
        installations = storage.installations
        inbox = storage.inbox
        credentials = storage.credentials
        metadata = storage.metadata
        appliedMigrations = { try await storage.appliedMigrations() }
    }
}

/// Opens the storage `DATABASE_URL` names, migrated, for the length of `body`.
func withConfiguredStorage<R: Sendable>(
    _ configuration: AppConfiguration? = nil,
    _ body: (StorageHandles) async throws -> R
) async throws -> R {
    let resolved: AppConfiguration
    if let configuration {
        resolved = configuration
    } else {
        resolved = try await readConfiguration(configFile: nil)
    }
    return try await SelectedStorage.open(resolved).withMigrated(body)
}
