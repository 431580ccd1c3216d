/// Each tenant's settings document, written with optimistic concurrency.
public protocol SettingsStore: Sendable {
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
}
