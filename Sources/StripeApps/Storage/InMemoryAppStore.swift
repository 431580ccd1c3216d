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
}
