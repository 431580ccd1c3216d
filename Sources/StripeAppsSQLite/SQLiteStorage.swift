import Foundation
import GRDB
public import ServiceLifecycle
public import StripeApps

/// The default ``StripeApps/StorageBackend``: one SQLite file through GRDB, in WAL mode with
/// `synchronous=FULL`, so that a committed write survives a crash or a power loss.
///
/// One process owns the file (commands such as `events replay` may open it beside the server); for several
/// instances, use PostgreSQL. As a `Service` it keeps the file open while the application runs.
public final class SQLiteStorage: StorageBackend, Service {
    let database: SQLiteDatabase

    /// Opens (creating when missing) the database; ``migrate()`` must run before the stores are used.
    ///
    /// - Parameters:
    ///   - location: A file, or memory.
    ///   - installationCacheLifetime: How long an installation record read from the file is reused (2 s by
    ///     default; `.zero` turns the cache off). Writes through this storage update it at once; the lifetime
    ///     bounds how long a change made by another process could go unseen.
    /// - Throws: ``StripeApps/StoreError/Code/unavailable`` when the file cannot be opened.
    public init(location: DatabaseURL.SQLite, installationCacheLifetime: Duration = .seconds(2)) throws {
        database = try SQLiteDatabase(location: location, installationCacheLifetime: installationCacheLifetime)
    }

    /// Opens (creating when missing) the database file at `path`, or a private in-memory database when `nil`.
    ///
    /// - Throws: ``StripeApps/StoreError/Code/unavailable`` when the file cannot be opened.
    public convenience init(path: String?, installationCacheLifetime: Duration = .seconds(2)) throws {
        try self.init(location: DatabaseURL.SQLite(path: path), installationCacheLifetime: installationCacheLifetime)
    }

    public var installations: SQLiteInstallationStore { SQLiteInstallationStore(database: database) }
    public var settings: SQLiteSettingsStore { SQLiteSettingsStore(database: database) }
    public var installStates: SQLiteInstallStateStore { SQLiteInstallStateStore(database: database) }
    public var credentials: SQLiteCredentialStore { SQLiteCredentialStore(database: database) }
    public var metadata: SQLiteMetadataStore { SQLiteMetadataStore(database: database) }
    public var inbox: SQLiteEventInbox { SQLiteEventInbox(database: database) }
    public var jobs: SQLiteJobQueue { SQLiteJobQueue(database: database) }
    public var schedules: SQLiteJobQueue { SQLiteJobQueue(database: database) }
    public var admin: SQLiteAdminStore { SQLiteAdminStore(database: database) }
    public var statistics: SQLiteStatistics { SQLiteStatistics(database: database) }

    /// Keeps the file open until the task is cancelled or the application shuts down.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await waitUntilCancelled() }
    }

    /// Applies every migration not applied yet, in order, each in its own transaction. Safe to run repeatedly
    /// and from several processes at once (the write lock serializes them).
    public func migrate() async throws {
        do {
            try SQLiteMigrations.migrator.migrate(database.writer)
        } catch {
            throw StoreError(
                .unavailable, message: "Cannot migrate the SQLite database: \(SQLiteDatabase.reason(error))")
        }
    }

    /// The names of the applied migrations, in order.
    public func appliedMigrations() async throws -> [String] {
        try await database.read { try SQLiteMigrations.migrator.appliedMigrations($0) }
    }

    /// Whether the database file uses write-ahead logging.
    public func journalMode() async throws -> String {
        try await database.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" }
    }

    public func checkHealth() async throws {
        do {
            _ = try await database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM app_metadata") }
        } catch {
            throw StoreError(.unavailable, message: "SQLite is not usable: \(SQLiteDatabase.reason(error))")
        }
    }
}

/// The open database and what the role stores share: the writer, the installation cache and the batchers.
final class SQLiteDatabase: Sendable {
    /// SQL that is true when the tenant of `row` (a table or alias with `account_id` and `livemode`) is blocked: the
    /// one rule by which the inbox's insert and claim and the job claim read a block, in the statement that writes.
    static func tenantIsBlocked(_ row: String) -> String {
        """
        EXISTS (
            SELECT 1 FROM installations AS i
            WHERE i.account_id = \(row).account_id AND i.livemode = \(row).livemode AND i.blocked_at IS NOT NULL)
        """
    }

    let writer: any DatabaseWriter
    let installationCache: InstallationCache
    let inboxWrites: GroupCommit<SQLiteEventInbox.Write, SQLiteEventInbox.Outcome>
    /// Job outcomes that arrive together share one transaction, and so one disk sync.
    let jobSettlements: GroupCommit<JobSettlement, Bool>

    /// Reads in a span named after the calling store method (``StripeApps/StorageSpan``).
    func read<T: Sendable>(
        fileID: String = #fileID, function: String = #function, _ body: @Sendable (Database) throws -> T
    ) async throws -> T {
        try await StorageSpan.run(system: "sqlite", fileID: fileID, function: function) {
            try await writer.read(body)
        }
    }

    /// Writes in one transaction, in a span named after the calling store method (``StripeApps/StorageSpan``).
    func write<T: Sendable>(
        fileID: String = #fileID, function: String = #function, _ body: @Sendable (Database) throws -> T
    ) async throws -> T {
        try await StorageSpan.run(system: "sqlite", fileID: fileID, function: function) {
            try await writer.write(body)
        }
    }

    /// Runs `body` (a group commit's submission) in a span named after the calling store method.
    func traced<T>(
        fileID: String = #fileID, function: String = #function, _ body: () async throws -> T
    ) async throws -> T {
        try await StorageSpan.run(system: "sqlite", fileID: fileID, function: function, body)
    }

    init(location: DatabaseURL.SQLite, installationCacheLifetime: Duration) throws {
        installationCache = InstallationCache(lifetime: installationCacheLifetime)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // WAL is set by DatabasePool; FULL makes every commit durable against power loss, not only crashes.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let description = location.path.map { "sqlite:\($0)" } ?? "sqlite::memory:"
        do {
            let writer: any DatabaseWriter
            if let path = location.path {
                writer = try DatabasePool(path: path, configuration: configuration)
            } else {
                writer = try DatabaseQueue(configuration: configuration)
            }
            self.writer = writer
            inboxWrites = GroupCommit { writes in try await SQLiteEventInbox.write(writes, into: writer) }
            jobSettlements = GroupCommit { settlements in try await SQLiteJobQueue.settle(settlements, into: writer) }
        } catch {
            throw StoreError(
                .unavailable, message: "Cannot open the SQLite database \(description): \(Self.reason(error))")
        }
    }

    /// Runs one single-statement primary-key read on the calling thread.
    ///
    /// GRDB's async `read` hops to a dispatch queue and back and wraps the read in a transaction; for one
    /// `SELECT … WHERE primary key` (atomic on its own in WAL mode, and answered from the page cache in
    /// microseconds) that cost several times the query itself on the signed UI routes. Writes, and reads of
    /// more than one statement, keep using the async, transactional API.
    func pointRead<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.unsafeRead(body)
    }

    /// The SQLite result code name only: error messages may quote SQL or values.
    static func reason(_ error: any Error) -> String {
        (error as? DatabaseError).map { "SQLite error \($0.resultCode.rawValue)" } ?? "\(type(of: error))"
    }
}

extension Date {
    /// A date read from a REAL column of Unix seconds.
    init(unixSeconds: Double) {
        self.init(timeIntervalSince1970: unixSeconds)
    }
}
