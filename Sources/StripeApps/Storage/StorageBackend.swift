/// A storage backend: it owns its connections and its migrations, and hands out one small store per role.
///
/// The composition root runs ``run()`` for the lifetime of the application (as a `Service`), calls
/// ``migrate()`` before the server accepts requests, and gives each controller the one store it uses. Every
/// backend (in-memory, SQLite, PostgreSQL) passes the same contract suite, role by role.
///
/// ```swift
/// let storage = InMemoryStorage()
/// try await storage.migrate()
/// let tenant = Tenant(accountID: "acct_1", mode: .test)
/// _ = try await storage.settings.updateSettings(for: tenant, expectedVersion: 0) { $0["theme"] = .string("dark") }
/// ```
public protocol StorageBackend: Sendable {
    /// The installation records.
    associatedtype Installations: InstallationStore
    /// The per-tenant settings documents.
    associatedtype Settings: SettingsStore
    /// The install-link CSRF states.
    associatedtype InstallStates: InstallStateStore
    /// The sealed tenant credentials and the audit log.
    associatedtype Credentials: CredentialStore
    /// Backend-wide values such as the development secret.
    associatedtype Metadata: MetadataStore
    /// The durable webhook inbox with leased claiming.
    associatedtype Inbox: EventInbox
    /// The durable job queue, on the same lease machinery.
    associatedtype Jobs: JobQueue
    /// Where each schedule is in its slots.
    associatedtype Schedules: ScheduleStore
    /// The admin pages' listings, replays and discards.
    associatedtype Admin: AdminStore
    /// Counts over the inbox and the jobs, for metrics and the admin page.
    associatedtype Statistics: StorageStatistics

    /// The installation records.
    var installations: Installations { get }
    /// The per-tenant settings documents.
    var settings: Settings { get }
    /// The install-link CSRF states.
    var installStates: InstallStates { get }
    /// The sealed tenant credentials and the audit log.
    var credentials: Credentials { get }
    /// Backend-wide values.
    var metadata: Metadata { get }
    /// The durable webhook inbox.
    var inbox: Inbox { get }
    /// The durable job queue.
    var jobs: Jobs { get }
    /// Where each schedule is in its slots.
    var schedules: Schedules { get }
    /// The admin pages' listings, replays and discards.
    var admin: Admin { get }
    /// Counts over the inbox and the jobs.
    var statistics: Statistics { get }

    /// Keeps the backend's connections for as long as the task runs; returns when it is cancelled or the
    /// application shuts down. Stores may be used only while this runs (for backends without connections it
    /// only waits).
    func run() async throws
    /// Applies every migration not applied yet, in order; safe when several instances start together.
    func migrate() async throws
    /// The names of the applied migrations, in order.
    func appliedMigrations() async throws -> [String]
    /// Returns normally when the storage can serve requests; throws ``StoreError/Code/unavailable`` otherwise.
    func checkHealth() async throws
    /// Registers `wake`, called whenever another instance stored an event, so this instance's worker can start it
    /// at once. A wake-up only: workers also poll. Backends used by one process never call it (the default).
    func onEventsStoredElsewhere(_ wake: @escaping @Sendable () -> Void)
}

extension StorageBackend {
    /// Never calls `wake`: nobody else stores events.
    public func onEventsStoredElsewhere(_ wake: @escaping @Sendable () -> Void) {}
}
