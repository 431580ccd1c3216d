public import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Encrypts tenant credentials at rest with AES-256-GCM, bound to their tenant, name and version.
///
/// Keys come from configuration (`ENCRYPTION_KEYS`: comma-separated, base64 of 32 random bytes each, e.g.
/// `openssl rand -base64 32`). The first key seals; every key opens, so a key can be rotated: put the new key
/// first, run `stripe-apps-backend credentials reseal` (``TenantCredentials/resealAll(dryRun:pageSize:)``),
/// then drop the old key.
///
/// The sealed format is `0x02 ‖ key id (8 bytes: SHA-256 of the key, truncated) ‖ nonce (12) ‖ ciphertext ‖
/// tag (16)`. The associated data is the UTF-8 of
/// `"stripe-apps-credential.v2" NUL account NUL mode NUL version NUL name` (mode `live` or `test`, version in
/// decimal): the tenant, the version the store keeps for the credential, and its name are authenticated, so
/// sealed bytes copied to another tenant's row, under another name, or over the same row at another version
/// (an older value put back: a rollback) do not open.
///
/// Values sealed by earlier releases (`0x01`, associated data `"stripe-apps-credential" NUL account NUL mode
/// NUL name`, no version) still open, so existing databases keep working; ``needsResealing(_:)`` reports them
/// and a reseal rewrites them in the current format. Nothing seals `0x01` any more, so after one key rotation
/// (new key first, reseal, old key dropped) no `0x01` value opens.
public struct CredentialCipher: Sendable {
    private struct Key: Sendable {
        let id: [UInt8]
        let key: SymmetricKey
    }

    private let keys: [Key]

    /// The format byte of values that bind the version (what ``seal(_:for:name:version:)`` writes).
    static let versionBoundFormat: UInt8 = 2
    /// The format byte of values sealed before versions were bound; opened, never written.
    static let legacyFormat: UInt8 = 1
    private static let headerLength = 1 + 8
    private static let minimumLength = headerLength + 12 + 16 + 1

    /// A cipher with these keys; the first seals.
    public init(keys: [SymmetricKey]) throws(CredentialError) {
        guard !keys.isEmpty else { throw CredentialError(.missingKey, message: "No encryption key is configured.") }
        self.keys = try keys.map { key throws(CredentialError) in
            guard key.bitCount == 256 else {
                throw CredentialError(.invalidKey, message: "An encryption key must be 32 bytes.")
            }
            let digest = key.withUnsafeBytes { SHA256.hash(data: $0) }
            return Key(id: Array(digest.prefix(8)), key: key)
        }
    }

    /// A cipher from comma-separated base64 keys, as in `ENCRYPTION_KEYS`.
    public init(base64Keys: String) throws(CredentialError) {
        let parts = base64Keys.split(separator: ",").map { part in
            String(part.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        }.filter { !$0.isEmpty }
        var keys: [SymmetricKey] = []
        for (index, part) in parts.enumerated() {
            guard let data = Data(base64Encoded: part), data.count == 32 else {
                throw CredentialError(
                    .invalidKey,
                    message: "Encryption key \(index + 1) is not the base64 of 32 bytes (openssl rand -base64 32)."
                )
            }
            keys.append(SymmetricKey(data: data))
        }
        try self.init(keys: keys)
    }

    /// Seals `plaintext` for `tenant`'s credential `name` as it will be stored at `version`.
    ///
    /// `version` is the version the store gives the write (``StoredCredential/version``): the current version
    /// plus one, which is why ``TenantCredentials`` always writes with a compare-and-swap.
    public func seal(_ plaintext: [UInt8], for tenant: Tenant, name: String, version: Int) throws -> [UInt8] {
        try seal(plaintext, format: Self.versionBoundFormat, context: Self.context(tenant, name, version: version))
    }

    /// Seals in the format of earlier releases (`0x01`, no version bound): only for tests of reading old data.
    package func sealLegacy(_ plaintext: [UInt8], for tenant: Tenant, name: String) throws -> [UInt8] {
        try seal(plaintext, format: Self.legacyFormat, context: Self.legacyContext(tenant, name))
    }

    /// Opens what ``seal(_:for:name:version:)`` produced for the same tenant, name and version (or a value of
    /// the earlier, version-less format for the same tenant and name).
    ///
    /// - Throws: ``CredentialError/Code/unknownKey`` when the sealing key is not configured;
    ///   ``CredentialError/Code/tampered`` when the bytes were altered or belong to another tenant, name or
    ///   version.
    public func open(_ sealed: [UInt8], for tenant: Tenant, name: String, version: Int) throws(CredentialError)
        -> [UInt8]
    {
        guard sealed.count >= Self.minimumLength else {
            throw CredentialError(.tampered, message: "The sealed credential is malformed.")
        }
        let context: [UInt8]
        switch sealed[0] {
        case Self.versionBoundFormat: context = Self.context(tenant, name, version: version)
        case Self.legacyFormat: context = Self.legacyContext(tenant, name)
        default: throw CredentialError(.tampered, message: "The sealed credential is malformed.")
        }
        let keyID = Array(sealed[1..<Self.headerLength])
        guard let key = keys.first(where: { $0.id == keyID }) else {
            throw CredentialError(.unknownKey, message: "The credential was sealed with a key that is not configured.")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed[Self.headerLength...])
            return Array(try AES.GCM.open(box, using: key.key, authenticating: context))
        } catch {
            throw CredentialError(
                .tampered, message: "The sealed credential does not open for this tenant, name and version.")
        }
    }

    /// Whether `sealed` should be rewritten: it was sealed with another key than the first one, or in the
    /// earlier format that does not bind the version.
    public func needsResealing(_ sealed: [UInt8]) -> Bool {
        sealed.count < Self.headerLength || sealed[0] != Self.versionBoundFormat
            || Array(sealed[1..<Self.headerLength]) != keys[0].id
    }

    private func seal(_ plaintext: [UInt8], format: UInt8, context: [UInt8]) throws -> [UInt8] {
        let key = keys[0]
        let box = try AES.GCM.seal(plaintext, using: key.key, authenticating: context)
        guard let combined = box.combined else {
            throw CredentialError(.invalidKey, message: "AES-GCM produced no combined form.")
        }
        return [format] + key.id + Array(combined)
    }

    private static func context(_ tenant: Tenant, _ name: String, version: Int) -> [UInt8] {
        Array("stripe-apps-credential.v2\u{0}\(tenant.accountID)\u{0}\(tenant.mode)\u{0}\(version)\u{0}\(name)".utf8)
    }

    private static func legacyContext(_ tenant: Tenant, _ name: String) -> [UInt8] {
        Array("stripe-apps-credential\u{0}\(tenant.accountID)\u{0}\(tenant.mode)\u{0}\(name)".utf8)
    }
}
