import Foundation
import StripeApps
import StripeAppsPostgres
import StripeAppsSQLite
import Testing

/// The storage backends the contract suites run against; each hands out fresh, isolated, migrated storage.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite
    case postgres

    /// In-memory and SQLite always; PostgreSQL when `POSTGRES_URL` is set, and always with `CI=true`.
    static let enabled: [Backend] = PostgresTestDatabase.isEnabled ? allCases : [.memory, .sqlite]

    var testDescription: String { rawValue }

    /// Runs `body` with new storage of this backend, running and migrated, and stops it afterwards.
    func withStorage(_ body: (TestStorage) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await Self.running(InMemoryStorage(), body)
        case .sqlite:
            try await withTemporaryDirectory { directory in
                let url = try DatabaseURL("sqlite:\(directory)/test.sqlite")
                try await Self.running(try SQLiteStorage(location: try #require(url.sqlite)), body)
            }
        case .postgres:
            try await PostgresTestDatabase.withFreshDatabase { location in
                // The contract suites check what the stores do, not how fast: the whole test run shares two
                // cores, and 40 changes of one tenant queue behind one lock, so the production deadline (5 s,
                // measured by the outage tests) could fail a correct store. A minute still ends a hung test.
                let configuration = PostgresStorage.Configuration(
                    location: location, maximumConnections: 20, operationTimeout: .seconds(60))
                try await Self.running(try PostgresStorage(configuration: configuration), body)
            }
        }
    }

    private static func running<Storage: StorageBackend>(
        _ storage: Storage,
        _ body: (TestStorage) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await storage.run() }
            defer { group.cancelAll() }
            try await storage.migrate()
            try await body(TestStorage(storage))
        }
    }
}

/// Every role store of one backend, as the contract suites use them.
struct TestStorage: Sendable {
    let installations: any InstallationStore
    let settings: any SettingsStore
    let installStates: any InstallStateStore
    let credentials: any CredentialStore
    let metadata: any MetadataStore
    let inbox: any EventInbox
    let jobs: any JobQueue
    let schedules: any ScheduleStore
    let admin: any AdminStore
    let statistics: any StorageStatistics
    let checkHealth: @Sendable () async throws -> Void

    init<Storage: StorageBackend>(_ storage: Storage) {
        installations = storage.installations
        settings = storage.settings
        installStates = storage.installStates
        credentials = storage.credentials
        metadata = storage.metadata
        inbox = storage.inbox
        jobs = storage.jobs
        schedules = storage.schedules
        admin = storage.admin
        statistics = storage.statistics
        checkHealth = { try await storage.checkHealth() }
    }
}

/// Runs `body` with a new empty directory, removed afterwards.
func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stripe-apps-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory.path)
}
