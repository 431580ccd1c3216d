import Synchronization

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A ``StorageBackend`` that keeps everything in memory: for tests and for trying the library out.
///
/// Nothing survives the process. It is every role store at once (each property returns `self`), with one lock
/// over all the data, so it behaves like a database with serializable transactions. The server never picks it
/// by itself; tests pass it to the composition root.
public final class InMemoryStorage: StorageBackend {
    struct State {
        var installations: [Tenant: Installation] = [:]
        var settings: [Tenant: SettingsDocument] = [:]
        var metadata: [String: String] = [:]
        var installStates: [String: InstallState] = [:]
        var inbox: [String: InboxEvent] = [:]
        var tokens: [String: Int64] = [:]
        var audit: [AuditRecord] = []
        var credentials: [CredentialKey: StoredCredential] = [:]
        var jobs: [String: JobRecord] = [:]
        var jobTokens: [String: Int64] = [:]
        var schedules: [String: ScheduleRecord] = [:]
    }

    struct CredentialKey: Hashable {
        let tenant: Tenant
        let name: String
    }

    let state = Mutex(State())
    private let now: @Sendable () -> Date

    /// Creates an empty store.
    ///
    /// - Parameter now: The clock used for `updatedAt` timestamps of settings.
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    public var installations: InMemoryStorage { self }
    public var settings: InMemoryStorage { self }
    public var installStates: InMemoryStorage { self }
    public var credentials: InMemoryStorage { self }
    public var metadata: InMemoryStorage { self }
    public var jobs: InMemoryJobQueue { InMemoryJobQueue(storage: self) }
    public var schedules: InMemoryJobQueue { InMemoryJobQueue(storage: self) }
    public var inbox: InMemoryStorage { self }
    public var admin: InMemoryStorage { self }

    /// Waits until the task is cancelled: there are no connections to keep.
    public func run() async throws {
        await waitUntilCancelled()
    }

    /// Nothing to migrate.
    public func migrate() async throws {}

    /// None: the in-memory schema is the code.
    public func appliedMigrations() async throws -> [String] { [] }

    public func checkHealth() async throws {}
}

/// Returns once the calling task is cancelled: the `run()` of a backend that keeps no connections.
package func waitUntilCancelled() async {
    let (stream, continuation) = AsyncStream<Void>.makeStream()
    await withTaskCancellationHandler {
        for await _ in stream {}
    } onCancel: {
        continuation.finish()
    }
}

extension InMemoryStorage: InstallationStore {
    public func installation(for tenant: Tenant) async throws -> Installation? {
        state.withLock { $0.installations[tenant] }
    }

    public func installations() async throws -> [Installation] {
        state.withLock { Array($0.installations.values) }.sorted {
            ($0.tenant.accountID, $0.tenant.mode) < ($1.tenant.accountID, $1.tenant.mode)
        }
    }

    public func apply(_ change: InstallationChange) async throws -> InstallationChange.Outcome {
        state.withLock { state in
            let tenant = change.tenant
            let current = state.installations[tenant]
            let outcome = change.outcome(against: current)
            guard outcome == .applied else { return outcome }
            state.installations[tenant] = change.applied(to: current)
            if change.action == .deactivate {
                state.cancelJobs(of: tenant, at: change.recordedAt)
                state.settings[tenant] = nil
                state.credentials = state.credentials.filter { $0.key.tenant != tenant }
                for (id, event) in state.inbox
                where event.accountID == tenant.accountID && event.isLiveMode == tenant.mode.isLive && event.isFinished
                {
                    state.inbox[id] = event.pruned
                }
                let record = change.auditRecord
                if !state.audit.contains(where: {
                    $0.tenant == tenant && $0.action == record.action && $0.reason == record.reason
                }) {
                    state.audit.append(record)
                }
            }
            return outcome
        }
    }
}

extension InMemoryStorage: SettingsStore {
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
}

extension InMemoryStorage: InstallStateStore {
    public func save(_ installState: InstallState) async throws {
        state.withLock { $0.installStates[installState.stateHash] = installState }
    }

    public func consume(_ kind: InstallState.Kind, hash: String, now: Date) async throws -> InstallState? {
        state.withLock { Self.consume(kind, hash: hash, now: now, in: &$0) }
    }

    public func state(hash: String, now: Date) async throws -> InstallState? {
        state.withLock { state in
            state.installStates[hash].flatMap { $0.kind == .state && $0.expiresAt > now ? $0 : nil }
        }
    }

    public func complete(hash: String, now: Date, _ followUp: @Sendable (InstallState) -> InstallFollowUp)
        async throws -> InstallState?
    {
        try state.withLock { state in
            // All or nothing, like a transaction: the changes are made on a copy, kept only if every one succeeds.
            var changed = state
            guard let consumed = Self.consume(.state, hash: hash, now: now, in: &changed) else { return nil }
            let work = followUp(consumed)
            if changed.inbox[work.event.id] == nil {
                changed.inbox[work.event.id] = changed.held(work.event) ?? work.event
            }
            if let linkCode = work.linkCode {
                guard changed.installStates[linkCode.stateHash] == nil else {
                    throw StoreError(.unavailable, message: "An install value with this hash exists already.")
                }
                changed.installStates[linkCode.stateHash] = linkCode
            }
            state = changed
            return consumed
        }
    }

    private static func consume(_ kind: InstallState.Kind, hash: String, now: Date, in state: inout State)
        -> InstallState?
    {
        state.installStates = state.installStates.filter { $0.value.expiresAt > now || $0.key == hash }
        guard let found = state.installStates[hash], found.kind == kind else { return nil }
        state.installStates[hash] = nil
        return found.expiresAt > now ? found : nil
    }

    public func deleteExpired(now: Date) async throws -> Int {
        state.withLock { state in
            let before = state.installStates.count
            state.installStates = state.installStates.filter { $0.value.expiresAt > now }
            return before - state.installStates.count
        }
    }
}

extension InMemoryStorage: CredentialStore {
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
            let version = try StoredCredential.nextVersion(
                current: state.credentials[key]?.version ?? 0, expected: expectedVersion)
            let stored = StoredCredential(tenant: tenant, name: name, sealed: sealed, version: version, updatedAt: date)
            state.credentials[key] = stored
            return stored
        }
    }

    public func credentials(after position: StoredCredential.ID?, limit: Int) async throws -> [StoredCredential] {
        // Account, then test before live, then name: the order of the SQL backends' primary keys.
        func precedes(_ lhs: StoredCredential.ID, _ rhs: StoredCredential.ID) -> Bool {
            if lhs.tenant.accountID != rhs.tenant.accountID { return lhs.tenant.accountID < rhs.tenant.accountID }
            if lhs.tenant.mode != rhs.tenant.mode { return !lhs.tenant.mode.isLive }
            return lhs.name < rhs.name
        }
        return state.withLock { state in
            Array(
                state.credentials.values
                    .filter { credential in position.map { precedes($0, credential.id) } ?? true }
                    .sorted { precedes($0.id, $1.id) }
                    .prefix(max(0, limit))
            )
        }
    }

    public func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool {
        state.withLock { $0.credentials.removeValue(forKey: CredentialKey(tenant: tenant, name: name)) != nil }
    }

    public func auditRecords(for tenant: Tenant) async throws -> [AuditRecord] {
        state.withLock { $0.audit.filter { $0.tenant == tenant } }
    }
}

extension InMemoryStorage: MetadataStore {
    public func value(forKey key: String, insertingIfMissing value: String) async throws -> String {
        state.withLock { state in
            if let existing = state.metadata[key] { return existing }
            state.metadata[key] = value
            return value
        }
    }

    public func value(forKey key: String) async throws -> String? {
        state.withLock { $0.metadata[key] }
    }
}
