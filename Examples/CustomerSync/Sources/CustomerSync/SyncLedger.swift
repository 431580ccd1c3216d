public import Foundation
import GRDB
public import StripeApps
import Synchronization

/// What the app knows of one customer's sync: the newest change of the customer it sent to the CRM.
public struct SyncRecord: Sendable, Hashable {
    /// The Stripe customer (`cus_…`), also the contact's id in the CRM.
    public var customerID: String
    /// When Stripe made the change that was sent: the event's `created`, or the time of a full sync's listing.
    /// An event no newer than this changes nothing (a duplicate, a replay, or a late out-of-order delivery).
    public var changedAt: Date
    /// Whether the customer was deleted (and removed from the CRM).
    public var isDeleted: Bool
    /// When the app sent it.
    public var syncedAt: Date

    /// Creates a record.
    public init(customerID: String, changedAt: Date, isDeleted: Bool, syncedAt: Date) {
        self.customerID = customerID
        self.changedAt = changedAt
        self.isDeleted = isDeleted
        self.syncedAt = syncedAt
    }
}

/// The last full sync of a tenant.
public struct FullSyncSummary: Sendable, Hashable {
    /// When it finished.
    public var finishedAt: Date
    /// How many customers it sent.
    public var customers: Int
    /// What started it: `nightly` or `manual`.
    public var trigger: String

    /// Creates a summary.
    public init(finishedAt: Date, customers: Int, trigger: String) {
        self.finishedAt = finishedAt
        self.customers = customers
        self.trigger = trigger
    }
}

/// What the app knows of a tenant: who installed it and the last full sync.
public struct TenantSyncState: Sendable, Hashable {
    /// When the app's install hook ran for the tenant, and for whom.
    public var installedAt: Date?
    /// The installing user (`usr_…`).
    public var installedBy: String?
    /// The last full sync.
    public var lastFullSync: FullSyncSummary?

    /// Creates a state.
    public init(installedAt: Date? = nil, installedBy: String? = nil, lastFullSync: FullSyncSummary? = nil) {
        self.installedAt = installedAt
        self.installedBy = installedBy
        self.lastFullSync = lastFullSync
    }
}

/// The app's own data: per tenant, what it sent to the CRM. The backend's storage keeps installations, settings,
/// credentials and events; an app keeps its own records in its own tables, and deletes a tenant's when the app is
/// uninstalled (``purge(_:)``, from the install lifecycle).
public protocol SyncLedger: Sendable {
    /// The record of a customer of `tenant`, if the app ever sent it.
    func record(of customerID: String, for tenant: Tenant) async throws -> SyncRecord?
    /// Stores `record` unless the stored one is as new or newer; returns whether it was stored.
    func store(_ record: SyncRecord, for tenant: Tenant) async throws -> Bool
    /// How many customers of `tenant` are synced and not deleted.
    func syncedCount(for tenant: Tenant) async throws -> Int
    /// What the app knows of the tenant; `nil` before its install hook ran.
    func state(of tenant: Tenant) async throws -> TenantSyncState?
    /// Records the install (the first one is kept: the hook may run again).
    func recordInstall(by userID: String?, at date: Date, for tenant: Tenant) async throws
    /// Records a finished full sync.
    func recordFullSync(_ summary: FullSyncSummary, for tenant: Tenant) async throws
    /// Deletes everything of `tenant`; returns how many customer records there were.
    func purge(_ tenant: Tenant) async throws -> Int
}

/// A ``SyncLedger`` in memory, for tests and development.
public final class InMemorySyncLedger: SyncLedger {
    private struct TenantData {
        var records: [String: SyncRecord] = [:]
        var state = TenantSyncState()
    }

    private let tenants = Mutex<[Tenant: TenantData]>([:])

    /// An empty ledger.
    public init() {}

    public func record(of customerID: String, for tenant: Tenant) async throws -> SyncRecord? {
        tenants.withLock { $0[tenant]?.records[customerID] }
    }

    public func store(_ record: SyncRecord, for tenant: Tenant) async throws -> Bool {
        tenants.withLock { tenants in
            if let stored = tenants[tenant]?.records[record.customerID], stored.changedAt >= record.changedAt {
                return false
            }
            tenants[tenant, default: TenantData()].records[record.customerID] = record
            return true
        }
    }

    public func syncedCount(for tenant: Tenant) async throws -> Int {
        tenants.withLock { $0[tenant]?.records.values.filter { !$0.isDeleted }.count ?? 0 }
    }

    public func state(of tenant: Tenant) async throws -> TenantSyncState? {
        tenants.withLock { $0[tenant]?.state }
    }

    public func recordInstall(by userID: String?, at date: Date, for tenant: Tenant) async throws {
        tenants.withLock { tenants in
            guard tenants[tenant]?.state.installedAt == nil else { return }
            tenants[tenant, default: TenantData()].state.installedAt = date
            tenants[tenant, default: TenantData()].state.installedBy = userID
        }
    }

    public func recordFullSync(_ summary: FullSyncSummary, for tenant: Tenant) async throws {
        tenants.withLock { $0[tenant, default: TenantData()].state.lastFullSync = summary }
    }

    public func purge(_ tenant: Tenant) async throws -> Int {
        tenants.withLock { $0.removeValue(forKey: tenant)?.records.count ?? 0 }
    }
}

/// A ``SyncLedger`` in an SQLite file of its own (GRDB), beside the backend's database.
public final class SQLiteSyncLedger: SyncLedger {
    private let database: DatabaseQueue

    /// Opens (creating and migrating) the ledger at `path`; `nil` for an in-memory database.
    public init(path: String?) throws {
        database = try path.map { try DatabaseQueue(path: $0) } ?? DatabaseQueue()
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001_sync_records") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sync_records (
                        account TEXT NOT NULL, mode TEXT NOT NULL, customer TEXT NOT NULL,
                        changed_at REAL NOT NULL, deleted INTEGER NOT NULL, synced_at REAL NOT NULL,
                        PRIMARY KEY (account, mode, customer));
                    CREATE TABLE tenants (
                        account TEXT NOT NULL, mode TEXT NOT NULL, installed_at REAL, installed_by TEXT,
                        full_sync_at REAL, full_sync_customers INTEGER, full_sync_trigger TEXT,
                        PRIMARY KEY (account, mode));
                    """)
        }
        try migrator.migrate(database)
    }

    public func record(of customerID: String, for tenant: Tenant) async throws -> SyncRecord? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT changed_at, deleted, synced_at FROM sync_records WHERE account = ? AND mode = ? AND customer = ?",
                arguments: [tenant.accountID, "\(tenant.mode)", customerID]
            ).map { row in
                SyncRecord(
                    customerID: customerID, changedAt: Date(timeIntervalSince1970: row["changed_at"]),
                    isDeleted: row["deleted"], syncedAt: Date(timeIntervalSince1970: row["synced_at"]))
            }
        }
    }

    public func store(_ record: SyncRecord, for tenant: Tenant) async throws -> Bool {
        try await database.write { db in
            // One statement decides: the row is written only when it is new or older than this change.
            try db.execute(
                sql: """
                    INSERT INTO sync_records (account, mode, customer, changed_at, deleted, synced_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account, mode, customer) DO UPDATE SET
                        changed_at = excluded.changed_at, deleted = excluded.deleted, synced_at = excluded.synced_at
                    WHERE excluded.changed_at > sync_records.changed_at
                    """,
                arguments: [
                    tenant.accountID, "\(tenant.mode)", record.customerID, record.changedAt.timeIntervalSince1970,
                    record.isDeleted, record.syncedAt.timeIntervalSince1970,
                ])
            return db.changesCount > 0
        }
    }

    public func syncedCount(for tenant: Tenant) async throws -> Int {
        try await database.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM sync_records WHERE account = ? AND mode = ? AND deleted = 0",
                arguments: [tenant.accountID, "\(tenant.mode)"]) ?? 0
        }
    }

    public func state(of tenant: Tenant) async throws -> TenantSyncState? {
        try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM tenants WHERE account = ? AND mode = ?",
                arguments: [tenant.accountID, "\(tenant.mode)"]
            ).map { row in
                let finishedAt: Double? = row["full_sync_at"]
                let installedAt: Double? = row["installed_at"]
                return TenantSyncState(
                    installedAt: installedAt.map(Date.init(timeIntervalSince1970:)), installedBy: row["installed_by"],
                    lastFullSync: finishedAt.map {
                        FullSyncSummary(
                            finishedAt: Date(timeIntervalSince1970: $0), customers: row["full_sync_customers"],
                            trigger: row["full_sync_trigger"])
                    })
            }
        }
    }

    public func recordInstall(by userID: String?, at date: Date, for tenant: Tenant) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tenants (account, mode, installed_at, installed_by) VALUES (?, ?, ?, ?)
                    ON CONFLICT (account, mode) DO UPDATE SET installed_at = excluded.installed_at,
                        installed_by = excluded.installed_by
                    WHERE tenants.installed_at IS NULL
                    """,
                arguments: [tenant.accountID, "\(tenant.mode)", date.timeIntervalSince1970, userID])
        }
    }

    public func recordFullSync(_ summary: FullSyncSummary, for tenant: Tenant) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tenants (account, mode, full_sync_at, full_sync_customers, full_sync_trigger)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account, mode) DO UPDATE SET full_sync_at = excluded.full_sync_at,
                        full_sync_customers = excluded.full_sync_customers, full_sync_trigger = excluded.full_sync_trigger
                    """,
                arguments: [
                    tenant.accountID, "\(tenant.mode)", summary.finishedAt.timeIntervalSince1970, summary.customers,
                    summary.trigger,
                ])
        }
    }

    public func purge(_ tenant: Tenant) async throws -> Int {
        try await database.write { db in
            let arguments: StatementArguments = [tenant.accountID, "\(tenant.mode)"]
            try db.execute(sql: "DELETE FROM sync_records WHERE account = ? AND mode = ?", arguments: arguments)
            let deleted = db.changesCount
            try db.execute(sql: "DELETE FROM tenants WHERE account = ? AND mode = ?", arguments: arguments)
            return deleted
        }
    }
}
