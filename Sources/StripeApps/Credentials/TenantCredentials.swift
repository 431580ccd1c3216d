#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A tenant's credentials, encrypted at rest in the app's own storage with a ``CredentialCipher``.
///
/// The store only ever sees sealed bytes. Credentials are part of the tenant's data: when the app is
/// uninstalled (`account.application.deauthorized`), the deactivation (``InstallationStore/apply(_:)``) deletes them.
///
/// ```swift
/// let credentials = TenantCredentials(store: storage.credentials, cipher: try CredentialCipher(base64Keys: keys))
/// try await credentials.setSecret(apiKey, named: "mailer.api_key", for: user.tenant)
/// ```
public struct TenantCredentials: TenantSecretStore {
    /// The storage.
    public let store: any CredentialStore
    /// The cipher.
    public let cipher: CredentialCipher
    private let now: @Sendable () -> Date

    /// Creates the credential store.
    public init(store: any CredentialStore, cipher: CredentialCipher, now: @escaping @Sendable () -> Date = { Date() })
    {
        self.store = store
        self.cipher = cipher
        self.now = now
    }

    public func secret(named name: String, for tenant: Tenant) async throws -> String? {
        try await versionedValue(named: name, for: tenant).map { String(decoding: $0.value, as: UTF8.self) }
    }

    public func setSecret(_ value: String, named name: String, for tenant: Tenant) async throws {
        _ = try await save(Array(value.utf8), named: name, for: tenant, expectedVersion: nil)
    }

    public func deleteSecret(named name: String, for tenant: Tenant) async throws {
        _ = try await store.deleteCredential(named: name, for: tenant)
    }

    /// The opened value and its version, for compare-and-swap updates.
    public func versionedValue(named name: String, for tenant: Tenant) async throws -> (value: [UInt8], version: Int)? {
        guard let stored = try await store.credential(named: name, for: tenant) else { return nil }
        return (try cipher.open(stored.sealed, for: tenant, name: name), stored.version)
    }

    /// Seals and writes `value`; with `expectedVersion`, only if nobody wrote since (see
    /// ``CredentialStore/saveCredential(_:named:for:expectedVersion:at:)``). Returns the new version.
    public func save(_ value: [UInt8], named name: String, for tenant: Tenant, expectedVersion: Int?) async throws
        -> Int
    {
        let sealed = try cipher.seal(value, for: tenant, name: name)
        return try await store.saveCredential(
            sealed, named: name, for: tenant, expectedVersion: expectedVersion, at: now()
        )
        .version
    }
}
