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
/// Each value is sealed for the version the store gives its write, and every write is a compare-and-swap on
/// that version, so an older value written back over a newer one does not open. After a key rotation,
/// ``resealAll(dryRun:pageSize:)`` rewrites what older keys sealed.
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
    ///
    /// - Throws: ``CredentialError`` when the stored bytes do not open for this tenant, name and version
    ///   (``CredentialError/Code/tampered``: altered, or copied from another row or an older version of this one)
    ///   or were sealed with a key no longer configured (``CredentialError/Code/unknownKey``).
    public func versionedValue(named name: String, for tenant: Tenant) async throws -> (value: [UInt8], version: Int)? {
        guard let stored = try await store.credential(named: name, for: tenant) else { return nil }
        return (try cipher.open(stored.sealed, for: tenant, name: name, version: stored.version), stored.version)
    }

    /// Seals and writes `value`; with `expectedVersion`, only if nobody wrote since (see
    /// ``CredentialStore/saveCredential(_:named:for:expectedVersion:at:)``). Returns the new version.
    ///
    /// The seal binds the version the write gives, so every write is a compare-and-swap. Without
    /// `expectedVersion` the write replaces whatever is there: it reads the current version, seals for the
    /// next, and tries again (a bounded number of times) when another writer came in between.
    ///
    /// - Throws: ``StoreError/Code/versionConflict`` when `expectedVersion` is not current, or, without it, when
    ///   other writers kept winning.
    public func save(_ value: [UInt8], named name: String, for tenant: Tenant, expectedVersion: Int?) async throws
        -> Int
    {
        if let expectedVersion {
            return try await write(value, named: name, for: tenant, over: expectedVersion)
        }
        var current = try await store.credential(named: name, for: tenant)?.version ?? 0
        for attempt in 1...Self.unconditionalWriteAttempts {
            do {
                return try await write(value, named: name, for: tenant, over: current)
            } catch let conflict as StoreError where conflict.code == .versionConflict {
                guard attempt < Self.unconditionalWriteAttempts else { throw conflict }
                if let newer = conflict.currentVersion {
                    current = newer
                } else {
                    current = try await store.credential(named: name, for: tenant)?.version ?? 0
                }
            }
        }
        preconditionFailure("The loop returns or throws.")
    }

    /// How many times a write without `expectedVersion` tries before it reports the conflict.
    package static let unconditionalWriteAttempts = 8

    /// Seals `value` for the version after `current` and writes it if `current` is still the version.
    func write(_ value: [UInt8], named name: String, for tenant: Tenant, over current: Int) async throws -> Int {
        let sealed = try cipher.seal(value, for: tenant, name: name, version: current + 1)
        return try await store.saveCredential(sealed, named: name, for: tenant, expectedVersion: current, at: now())
            .version
    }
}
