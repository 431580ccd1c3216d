public import Foundation
import GRDB
public import StripeApps

/// The default ``StripeApps/AppStore``: one SQLite file through GRDB, in WAL mode with `synchronous=FULL`, so
/// that a committed write survives a crash or a power loss.
///
/// One process owns the file; for several instances, use the PostgreSQL store.
public final class SQLiteAppStore: AppStore {
    private let writer: any DatabaseWriter
    private let installationCache: InstallationCache
    private let eventBatcher: GroupCommit<InboxEvent, Bool>

    /// The location of the database, from a `DATABASE_URL` such as `sqlite:stripe-apps.sqlite`.
    public struct Location: Sendable, Hashable, CustomStringConvertible {
        /// The file path, or `nil` for a private in-memory database.
        public let path: String?

        /// Parses `sqlite:PATH`, `sqlite://PATH` or `sqlite::memory:`; returns `nil` for other schemes.
        public init?(databaseURL: String) {
            let body: Substring
            if databaseURL.hasPrefix("sqlite://") {
                body = databaseURL.dropFirst("sqlite://".count)
            } else if databaseURL.hasPrefix("sqlite:") {
                body = databaseURL.dropFirst("sqlite:".count)
            } else {
                return nil
            }
            guard !body.isEmpty else { return nil }
            path = body == ":memory:" ? nil : String(body)
        }

        public var description: String { path.map { "sqlite:\($0)" } ?? "sqlite::memory:" }
    }

    /// Opens (creating when missing) the database; call ``migrate()`` before use.
    ///
    /// - Parameters:
    ///   - location: A file, or memory.
    ///   - installationCacheLifetime: How long an installation record read from the file is reused (2 s by
    ///     default; `.zero` turns the cache off). Writes through this store update it at once; the lifetime
    ///     bounds how long a change made by another process could go unseen.
    /// - Throws: ``StripeApps/StoreError/Code/unavailable`` when the file cannot be opened.
    public init(location: Location, installationCacheLifetime: Duration = .seconds(2)) throws {
        installationCache = InstallationCache(lifetime: installationCacheLifetime)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // WAL is set by DatabasePool; FULL makes every commit durable against power loss, not only crashes.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            let writer: any DatabaseWriter
            if let path = location.path {
                writer = try DatabasePool(path: path, configuration: configuration)
            } else {
                writer = try DatabaseQueue(configuration: configuration)
            }
            self.writer = writer
            eventBatcher = GroupCommit { events in try await Self.insertEvents(events, into: writer) }
        } catch {
            throw StoreError(
                .unavailable, message: "Cannot open the SQLite database \(location): \(Self.reason(error))")
        }
    }

    /// Applies every migration not applied yet, in order. Safe to run repeatedly and concurrently.
    public func migrate() async throws {
        try SQLiteMigrations.migrator.migrate(writer)
    }

    /// The names of the applied migrations, in order.
    public func appliedMigrations() async throws -> [String] {
        try await writer.read { try SQLiteMigrations.migrator.appliedMigrations($0) }
    }

    /// Whether the database file uses write-ahead logging.
    public func journalMode() async throws -> String {
        try await writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" }
    }

    public func checkHealth() async throws {
        do {
            _ = try await writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM app_metadata") }
        } catch {
            throw StoreError(.unavailable, message: "SQLite is not usable: \(Self.reason(error))")
        }
    }

    public func installation(for tenant: Tenant) async throws -> Installation? {
        if let cached = installationCache.cached(tenant) { return cached }
        let generation = installationCache.generation
        let installation = try readInstallation(for: tenant)
        installationCache.fill(tenant, with: installation, generation: generation)
        return installation
    }

    private func readInstallation(for tenant: Tenant) throws -> Installation? {
        try pointRead { db in
            let statement = try db.cachedStatement(
                sql: "SELECT status, created_at, updated_at FROM installations WHERE account_id = ? AND livemode = ?"
            )
            guard let row = try Row.fetchOne(statement, arguments: [tenant.accountID, tenant.mode.isLive]) else {
                return nil
            }
            guard let status = Installation.Status(row["status"] as String) else {
                throw StoreError(.unavailable, message: "An installation row has an unknown status.")
            }
            return Installation(
                tenant: tenant,
                status: status,
                createdAt: Date(timeIntervalSince1970: row["created_at"]),
                updatedAt: Date(timeIntervalSince1970: row["updated_at"])
            )
        }
    }

    public func saveInstallation(_ installation: Installation) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO installations (account_id, livemode, status, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, livemode) DO UPDATE SET
                        status = excluded.status, created_at = excluded.created_at, updated_at = excluded.updated_at
                    """,
                arguments: [
                    installation.tenant.accountID, installation.tenant.mode.isLive, installation.status.description,
                    installation.createdAt.timeIntervalSince1970, installation.updatedAt.timeIntervalSince1970,
                ]
            )
        }
        installationCache.written(installation)
    }

    public func settings(for tenant: Tenant) async throws -> SettingsDocument {
        try pointRead { try Self.settings(in: $0, for: tenant) }
    }

    /// Runs one single-statement primary-key read on the calling thread.
    ///
    /// GRDB's async `read` hops to a dispatch queue and back and wraps the read in a transaction; for one
    /// `SELECT … WHERE primary key` (atomic on its own in WAL mode, and answered from the page cache in
    /// microseconds) that cost several times the query itself on the signed UI routes. Writes, and reads of
    /// more than one statement, keep using the async, transactional API.
    private func pointRead<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.unsafeRead(body)
    }

    public func updateSettings(
        for tenant: Tenant,
        expectedVersion: Int,
        _ update: @Sendable (inout [String: PayloadValue]) throws -> Void
    ) async throws -> SettingsDocument {
        let now = Date()
        return try await writer.write { db in
            let updated = try Self.settings(in: db, for: tenant).updated(
                expectedVersion: expectedVersion, at: now, by: update)
            try db.execute(
                sql: """
                    INSERT INTO settings (account_id, livemode, version, document, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, livemode) DO UPDATE SET
                        version = excluded.version, document = excluded.document, updated_at = excluded.updated_at
                    """,
                arguments: [
                    tenant.accountID, tenant.mode.isLive, updated.version, updated.valuesJSON,
                    now.timeIntervalSince1970,
                ]
            )
            return updated
        }
    }

    public func saveInstallState(_ state: InstallState) async throws {
        try await writer.write { db in
            try db.execute(
                sql:
                    "INSERT INTO install_states (state_hash, app_value, mode, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    state.stateHash, state.appValue, state.mode?.description, state.createdAt.timeIntervalSince1970,
                    state.expiresAt.timeIntervalSince1970,
                ]
            )
        }
    }

    public func consumeInstallState(hash: String, now: Date) async throws -> InstallState? {
        try await writer.write { db in
            // One statement deletes and returns the row, so two callbacks with the same state cannot both get it.
            let row = try Row.fetchOne(
                db,
                sql:
                    "DELETE FROM install_states WHERE state_hash = ? RETURNING app_value, mode, created_at, expires_at",
                arguments: [hash]
            )
            try db.execute(
                sql: "DELETE FROM install_states WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
            guard let row, (row["expires_at"] as Double) > now.timeIntervalSince1970 else { return nil }
            return InstallState(
                stateHash: hash,
                appValue: row["app_value"],
                mode: (row["mode"] as String?).flatMap(Tenant.Mode.init),
                createdAt: Date(timeIntervalSince1970: row["created_at"]),
                expiresAt: Date(timeIntervalSince1970: row["expires_at"])
            )
        }
    }

    public func enqueueEvent(_ event: InboxEvent) async throws -> Bool {
        try await eventBatcher.submit(event)
    }

    /// Inserts a batch of events in one transaction; each output says whether that event was new.
    private static func insertEvents(_ events: [InboxEvent], into writer: any DatabaseWriter) async throws -> [Bool] {
        try await writer.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO inbox_events (id, type, livemode, account_id, created, received_at, status, attempts, payload)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """
            )
            return try events.map { event in
                try statement.execute(arguments: [
                    event.id, event.type, event.isLiveMode, event.accountID, event.created,
                    event.receivedAt.timeIntervalSince1970, event.status.description, event.attempts, event.payload,
                ])
                return db.changesCount > 0
            }
        }
    }

    public func inboxEvents(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.inboxColumns) FROM inbox_events
                    WHERE ?1 IS NULL OR status = ?1 ORDER BY received_at DESC, id DESC LIMIT ?2
                    """,
                arguments: [status?.description, limit]
            )
            return try rows.map(Self.inboxEvent)
        }
    }

    private static let inboxColumns =
        "id, type, livemode, account_id, created, received_at, status, attempts, payload, next_attempt_at, last_error"

    private static func inboxEvent(_ row: Row) throws -> InboxEvent {
        guard let status = InboxEvent.Status(name: row["status"]) else {
            throw StoreError(.unavailable, message: "An inbox row has an unknown status.")
        }
        return InboxEvent(
            id: row["id"],
            type: row["type"],
            isLiveMode: row["livemode"],
            accountID: row["account_id"],
            created: row["created"],
            receivedAt: Date(timeIntervalSince1970: row["received_at"]),
            status: status,
            attempts: row["attempts"],
            payload: row["payload"],
            nextAttemptAt: (row["next_attempt_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row["last_error"]
        )
    }

    public func dueEvents(now: Date, limit: Int) async throws -> [InboxEvent] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.inboxColumns) FROM inbox_events
                    WHERE status = 'pending' OR (status = 'failed' AND next_attempt_at <= ?)
                    ORDER BY created, received_at, id LIMIT ?
                    """,
                arguments: [now.timeIntervalSince1970, limit]
            ).map(Self.inboxEvent)
        }
    }

    public func markEventSucceeded(id: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE inbox_events SET status = 'succeeded', attempts = attempts + 1, next_attempt_at = NULL,
                    last_error = NULL WHERE id = ?
                    """,
                arguments: [id]
            )
        }
    }

    public func markEventFailed(id: String, error: String, nextAttemptAt: Date?) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE inbox_events SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?
                    WHERE id = ?
                    """,
                arguments: [
                    nextAttemptAt == nil ? "dead" : "failed", nextAttemptAt?.timeIntervalSince1970,
                    String(error.prefix(2000)), id,
                ]
            )
        }
    }

    public func replayEvent(id: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE inbox_events SET status = 'pending', next_attempt_at = NULL WHERE id = ?",
                arguments: [id]
            )
            return db.changesCount > 0
        }
    }

    public func applyInstallationEvent(_ installation: Installation, eventCreated: Int64) async throws -> Bool {
        let applied = try await writer.write { db in
            // Only an event at least as new as the last one applied may change the record.
            try db.execute(
                sql: """
                    INSERT INTO installations (account_id, livemode, status, created_at, updated_at, last_event_created)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, livemode) DO UPDATE SET
                        status = excluded.status, updated_at = excluded.updated_at,
                        last_event_created = excluded.last_event_created
                    WHERE installations.last_event_created IS NULL OR installations.last_event_created <= excluded.last_event_created
                    """,
                arguments: [
                    installation.tenant.accountID, installation.tenant.mode.isLive, installation.status.description,
                    installation.createdAt.timeIntervalSince1970, installation.updatedAt.timeIntervalSince1970,
                    eventCreated,
                ]
            )
            return db.changesCount > 0
        }
        // The stored record keeps its first createdAt, so drop the cached one rather than guess it.
        if applied { installationCache.invalidate(installation.tenant) }
        return applied
    }

    public func purgeTenantData(_ tenant: Tenant, reason: String, at date: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM settings WHERE account_id = ? AND livemode = ?",
                arguments: [tenant.accountID, tenant.mode.isLive]
            )
            try db.execute(
                sql: "DELETE FROM tenant_credentials WHERE account_id = ? AND livemode = ?",
                arguments: [tenant.accountID, tenant.mode.isLive]
            )
            try db.execute(
                sql:
                    "INSERT INTO audit_log (account_id, livemode, action, reason, created_at) VALUES (?, ?, 'purged', ?, ?) "
                    + "ON CONFLICT DO NOTHING",
                arguments: [tenant.accountID, tenant.mode.isLive, reason, date.timeIntervalSince1970]
            )
        }
    }

    public func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential? {
        try await writer.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT sealed, version, updated_at FROM tenant_credentials "
                    + "WHERE account_id = ? AND livemode = ? AND name = ?",
                arguments: [tenant.accountID, tenant.mode.isLive, name]
            ).map { row in
                StoredCredential(
                    tenant: tenant,
                    name: name,
                    sealed: [UInt8](row["sealed"] as Data),
                    version: row["version"],
                    updatedAt: Date(timeIntervalSince1970: row["updated_at"])
                )
            }
        }
    }

    public func saveCredential(
        _ sealed: [UInt8],
        named name: String,
        for tenant: Tenant,
        expectedVersion: Int?,
        at date: Date
    ) async throws -> StoredCredential {
        let version: Int = try await writer.write { db in
            let current =
                try Int.fetchOne(
                    db,
                    sql: "SELECT version FROM tenant_credentials WHERE account_id = ? AND livemode = ? AND name = ?",
                    arguments: [tenant.accountID, tenant.mode.isLive, name]
                ) ?? 0
            if let expectedVersion, expectedVersion != current {
                throw StoreError.credentialConflict(current: current)
            }
            try db.execute(
                sql:
                    "INSERT INTO tenant_credentials (account_id, livemode, name, sealed, version, updated_at) "
                    + "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, livemode, name) DO UPDATE SET "
                    + "sealed = excluded.sealed, version = excluded.version, updated_at = excluded.updated_at",
                arguments: [
                    tenant.accountID, tenant.mode.isLive, name, Data(sealed), current + 1, date.timeIntervalSince1970,
                ]
            )
            return current + 1
        }
        return StoredCredential(tenant: tenant, name: name, sealed: sealed, version: version, updatedAt: date)
    }

    public func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM tenant_credentials WHERE account_id = ? AND livemode = ? AND name = ?",
                arguments: [tenant.accountID, tenant.mode.isLive, name]
            )
            return db.changesCount > 0
        }
    }

    public func auditRecords(for tenant: Tenant) async throws -> [AuditRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT action, reason, created_at FROM audit_log WHERE account_id = ? AND livemode = ? ORDER BY id",
                arguments: [tenant.accountID, tenant.mode.isLive]
            ).map { row in
                AuditRecord(
                    tenant: tenant,
                    action: row["action"],
                    reason: row["reason"],
                    date: Date(timeIntervalSince1970: row["created_at"])
                )
            }
        }
    }

    public func installations() async throws -> [Installation] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT account_id, livemode, status, created_at, updated_at FROM installations ORDER BY account_id, livemode"
            ).map { row in
                guard let status = Installation.Status(row["status"] as String) else {
                    throw StoreError(.unavailable, message: "An installation row has an unknown status.")
                }
                return Installation(
                    tenant: Tenant(accountID: row["account_id"], mode: (row["livemode"] as Bool) ? .live : .test),
                    status: status,
                    createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    updatedAt: Date(timeIntervalSince1970: row["updated_at"])
                )
            }
        }
    }

    public func metadataValue(forKey key: String, insertingIfMissing value: String) async throws -> String {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO app_metadata (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                arguments: [key, value]
            )
            return try String.fetchOne(db, sql: "SELECT value FROM app_metadata WHERE key = ?", arguments: [key])
                ?? value
        }
    }

    private static func settings(in db: Database, for tenant: Tenant) throws -> SettingsDocument {
        let statement = try db.cachedStatement(
            sql: "SELECT version, document, updated_at FROM settings WHERE account_id = ? AND livemode = ?"
        )
        guard let row = try Row.fetchOne(statement, arguments: [tenant.accountID, tenant.mode.isLive]) else {
            return .empty
        }
        return SettingsDocument(
            version: row["version"],
            values: try SettingsDocument.values(fromJSON: row["document"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"])
        )
    }

    /// The SQLite result code name only: error messages may quote SQL or values.
    private static func reason(_ error: any Error) -> String {
        (error as? DatabaseError).map { "SQLite error \($0.resultCode.rawValue)" } ?? "\(type(of: error))"
    }
}
