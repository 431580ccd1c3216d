import Synchronization

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// An ``AppStore`` that keeps everything in memory: for tests and for trying the library out.
///
/// Nothing survives the process. The server never picks it by itself; tests pass it to the composition root.
public final class InMemoryAppStore: AppStore {
    private struct State {
        var installations: [Tenant: Installation] = [:]
        var settings: [Tenant: SettingsDocument] = [:]
        var metadata: [String: String] = [:]
        var installStates: [String: InstallState] = [:]
        var inbox: [String: InboxEvent] = [:]
        var lastInstallationEvent: [Tenant: Int64] = [:]
        var audit: [AuditRecord] = []
        var credentials: [CredentialKey: StoredCredential] = [:]
    }

    private struct CredentialKey: Hashable {
        let tenant: Tenant
        let name: String
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> Date

    /// Creates an empty store.
    ///
    /// - Parameter now: The clock used for `updatedAt` timestamps.
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    public func checkHealth() async throws {}

    public func installation(for tenant: Tenant) async throws -> Installation? {
        state.withLock { $0.installations[tenant] }
    }

    public func saveInstallation(_ installation: Installation) async throws {
        state.withLock { $0.installations[installation.tenant] = installation }
    }

    public func settings(for tenant: Tenant) async throws -> SettingsDocument {
        state.withLock { $0.settings[tenant] } ?? .empty
    }

    public func updateSettings(
        for tenant: Tenant,
        expectedVersion: Int,
        _ update: @Sendable (inout [String: PayloadValue]) throws -> Void
    ) async throws -> SettingsDocument {
        let date = now()
        return try state.withLock { state in
            let updated = try (state.settings[tenant] ?? .empty).updated(
                expectedVersion: expectedVersion, at: date, by: update)
            state.settings[tenant] = updated
            return updated
        }
    }

    public func saveInstallState(_ installState: InstallState) async throws {
        state.withLock { $0.installStates[installState.stateHash] = installState }
    }

    public func consumeInstallState(hash: String, now: Date) async throws -> InstallState? {
        state.withLock { state in
            state.installStates = state.installStates.filter { $0.value.expiresAt > now || $0.key == hash }
            guard let found = state.installStates.removeValue(forKey: hash), found.expiresAt > now else { return nil }
            return found
        }
    }

    public func enqueueEvent(_ event: InboxEvent) async throws -> Bool {
        state.withLock { state in
            guard state.inbox[event.id] == nil else { return false }
            state.inbox[event.id] = event
            return true
        }
    }

    public func inboxEvents(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent] {
        let events = state.withLock { Array($0.inbox.values) }
        return Array(
            events.filter { status == nil || $0.status == status }
                .sorted { ($0.receivedAt, $0.id) > ($1.receivedAt, $1.id) }
                .prefix(limit)
        )
    }

    public func dueEvents(now: Date, limit: Int) async throws -> [InboxEvent] {
        let events = state.withLock { Array($0.inbox.values) }
        return Array(
            events.filter { $0.status == .pending || ($0.status == .failed && ($0.nextAttemptAt ?? now) <= now) }
                .sorted { ($0.created, $0.receivedAt, $0.id) < ($1.created, $1.receivedAt, $1.id) }
                .prefix(limit)
        )
    }

    public func markEventSucceeded(id: String) async throws {
        state.withLock { state in
            state.inbox[id]?.status = .succeeded
            state.inbox[id]?.attempts += 1
            state.inbox[id]?.nextAttemptAt = nil
            state.inbox[id]?.lastError = nil
        }
    }

    public func markEventFailed(id: String, error: String, nextAttemptAt: Date?) async throws {
        state.withLock { state in
            state.inbox[id]?.status = nextAttemptAt == nil ? .dead : .failed
            state.inbox[id]?.attempts += 1
            state.inbox[id]?.nextAttemptAt = nextAttemptAt
            state.inbox[id]?.lastError = error
        }
    }

    public func replayEvent(id: String) async throws -> Bool {
        state.withLock { state in
            guard state.inbox[id] != nil else { return false }
            state.inbox[id]?.status = .pending
            state.inbox[id]?.nextAttemptAt = nil
            return true
        }
    }

    public func applyInstallationEvent(_ installation: Installation, eventCreated: Int64) async throws -> Bool {
        state.withLock { state in
            let tenant = installation.tenant
            if let last = state.lastInstallationEvent[tenant], last > eventCreated { return false }
            var record = installation
            if let existing = state.installations[tenant] { record.createdAt = existing.createdAt }
            state.installations[tenant] = record
            state.lastInstallationEvent[tenant] = eventCreated
            return true
        }
    }

    public func purgeTenantData(_ tenant: Tenant, reason: String, at date: Date) async throws {
        state.withLock { state in
            state.settings[tenant] = nil
            state.credentials = state.credentials.filter { $0.key.tenant != tenant }
            guard !state.audit.contains(where: { $0.tenant == tenant && $0.action == "purged" && $0.reason == reason })
            else { return }
            state.audit.append(AuditRecord(tenant: tenant, action: "purged", reason: reason, date: date))
        }
    }

    public func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential? {
        state.withLock { $0.credentials[CredentialKey(tenant: tenant, name: name)] }
    }

    public func saveCredential(
        _ sealed: [UInt8],
        named name: String,
        for tenant: Tenant,
        expectedVersion: Int?,
        at date: Date
    ) async throws -> StoredCredential {
        let key = CredentialKey(tenant: tenant, name: name)
        return try state.withLock { state in
            let current = state.credentials[key]?.version ?? 0
            if let expectedVersion, expectedVersion != current {
                throw StoreError.credentialConflict(current: current)
            }
            let stored = StoredCredential(
                tenant: tenant, name: name, sealed: sealed, version: current + 1, updatedAt: date)
            state.credentials[key] = stored
            return stored
        }
    }

    public func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool {
        state.withLock { $0.credentials.removeValue(forKey: CredentialKey(tenant: tenant, name: name)) != nil }
    }

    public func auditRecords(for tenant: Tenant) async throws -> [AuditRecord] {
        state.withLock { $0.audit.filter { $0.tenant == tenant } }
    }

    public func installations() async throws -> [Installation] {
        state.withLock { Array($0.installations.values) }.sorted {
            ($0.tenant.accountID, $0.tenant.mode) < ($1.tenant.accountID, $1.tenant.mode)
        }
    }

    public func metadataValue(forKey key: String, insertingIfMissing value: String) async throws -> String {
        state.withLock { state in
            if let existing = state.metadata[key] { return existing }
            state.metadata[key] = value
            return value
        }
    }
}

extension StoreError {
    /// The conflict every store reports for a stale version.
    public static func versionConflict(current: Int) -> StoreError {
        StoreError(
            .versionConflict,
            message: "The settings changed since they were read (current version \(current)); read them again.",
            currentVersion: current
        )
    }

    /// The conflict every store reports when a credential was written since it was read (a compare-and-swap lost).
    public static func credentialConflict(current: Int) -> StoreError {
        StoreError(.versionConflict, message: "The credential was changed by another writer.", currentVersion: current)
    }
}
