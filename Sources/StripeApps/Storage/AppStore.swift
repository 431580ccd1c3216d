#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Everything the backend persists, behind one protocol with an in-memory, a SQLite and a PostgreSQL
/// implementation. Every implementation passes the same contract test suite.
///
/// Every method is scoped to one ``Tenant`` where tenant data is involved, so no query can mix the live and
/// test data of an account, or two accounts.
public protocol AppStore: Sendable {
    /// Returns normally when the storage can serve requests; throws ``StoreError/Code/unavailable`` otherwise.
    func checkHealth() async throws
    /// The installation record of a tenant, or `nil` when the app was never installed there.
    func installation(for tenant: Tenant) async throws -> Installation?
    /// Creates or replaces the installation record of `installation.tenant`.
    func saveInstallation(_ installation: Installation) async throws
    /// The settings of a tenant; ``SettingsDocument/empty`` when none were written.
    func settings(for tenant: Tenant) async throws -> SettingsDocument
    /// Atomically applies `update` to the values if the current version is `expectedVersion`, and bumps it.
    ///
    /// `update` runs inside the write (a transaction for databases); when it throws, nothing changes and the
    /// error is rethrown. A stale `expectedVersion` throws ``StoreError/Code/versionConflict``.
    func updateSettings(
        for tenant: Tenant,
        expectedVersion: Int,
        _ update: @Sendable (inout [String: PayloadValue]) throws -> Void
    ) async throws -> SettingsDocument
    /// Stores a new install-link state.
    func saveInstallState(_ state: InstallState) async throws
    /// Removes and returns the state with this hash if it exists and has not expired at `now` (at most once,
    /// even under concurrent calls); expired states are removed as well.
    func consumeInstallState(hash: String, now: Date) async throws -> InstallState?
    /// Stores an event in the inbox unless one with its id is there already; returns whether it was new.
    ///
    /// When this returns, the event is durable (committed, and for SQLite synced to disk): only then may the
    /// webhook endpoint answer 2xx.
    func enqueueEvent(_ event: InboxEvent) async throws -> Bool
    /// Inbox events, newest first, optionally of one status.
    func inboxEvents(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent]
    /// Events the worker should run now: pending ones, and failed ones whose retry time has come, oldest first.
    func dueEvents(now: Date, limit: Int) async throws -> [InboxEvent]
    /// Records a successful run of the handlers of an event.
    func markEventSucceeded(id: String) async throws
    /// Records a failed run: retried at `nextAttemptAt`, or dead (no more automatic retries) when it is `nil`.
    func markEventFailed(id: String, error: String, nextAttemptAt: Date?) async throws
    /// Makes an event pending again (manual replay); returns `false` when there is no such event.
    func replayEvent(id: String) async throws -> Bool
    /// Applies an installation change carried by an event created at `eventCreated` (Unix seconds), unless a
    /// newer event already set the installation: events arrive out of order. Returns whether it applied.
    func applyInstallationEvent(_ installation: Installation, eventCreated: Int64) async throws -> Bool
    /// Deletes the tenant's data (settings and credentials; the installation record stays as a tombstone) and appends an
    /// audit record saying so; the same `reason` twice (a handler retried after a crash) is recorded once.
    func purgeTenantData(_ tenant: Tenant, reason: String, at date: Date) async throws
    /// The audit records of a tenant, oldest first.
    func auditRecords(for tenant: Tenant) async throws -> [AuditRecord]
    /// Every installation record, tombstones included.
    func installations() async throws -> [Installation]
    /// The sealed credential `name` of a tenant, or `nil`.
    func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential?
    /// Writes the sealed credential `name` of a tenant and returns the stored record.
    ///
    /// With `expectedVersion` `nil` the write is unconditional. Otherwise it is a compare-and-swap: it applies only
    /// if the current version is `expectedVersion` (`0`: there must be none yet), and throws
    /// ``StoreError/Code/versionConflict`` when another writer came first, so a rotated OAuth refresh token is
    /// never overwritten by an older one.
    func saveCredential(
        _ sealed: [UInt8],
        named name: String,
        for tenant: Tenant,
        expectedVersion: Int?,
        at date: Date
    ) async throws -> StoredCredential
    /// Deletes the credential `name` of a tenant; returns whether there was one.
    func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool
    /// The value stored under `key`, storing `value` first when there is none (atomically: the first writer wins).
    func metadataValue(forKey key: String, insertingIfMissing value: String) async throws -> String
}
