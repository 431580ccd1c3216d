public import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Encrypts tenant credentials at rest with AES-256-GCM, bound to their tenant and name.
///
/// Keys come from configuration (`ENCRYPTION_KEYS`: comma-separated, base64 of 32 random bytes each, e.g.
/// `openssl rand -base64 32`). The first key seals; every key opens, so a key can be rotated: put the new key
/// first, keep the old one until everything was rewritten, then drop it.
///
/// The sealed format is `0x01 ‖ key id (8 bytes: SHA-256 of the key, truncated) ‖ nonce ‖ ciphertext ‖ tag`.
/// The tenant and the credential's name are authenticated as associated data, so sealed bytes copied to another
/// tenant's row, or under another name, do not open.
public struct CredentialCipher: Sendable {
    private struct Key: Sendable {
        let id: [UInt8]
        let key: SymmetricKey
    }

    private let keys: [Key]
    private static let formatVersion: UInt8 = 1

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

    /// Seals `plaintext` for `tenant`'s credential `name`.
    public func seal(_ plaintext: [UInt8], for tenant: Tenant, name: String) throws -> [UInt8] {
        let key = keys[0]
        let box = try AES.GCM.seal(plaintext, using: key.key, authenticating: Self.context(tenant, name))
        guard let combined = box.combined else {
            throw CredentialError(.invalidKey, message: "AES-GCM produced no combined form.")
        }
        return [Self.formatVersion] + key.id + Array(combined)
    }

    /// Opens what ``seal(_:for:name:)`` produced for the same tenant and name.
    public func open(_ sealed: [UInt8], for tenant: Tenant, name: String) throws(CredentialError) -> [UInt8] {
        guard sealed.count > 1 + 8 + 12 + 16, sealed[0] == Self.formatVersion else {
            throw CredentialError(.tampered, message: "The sealed credential is malformed.")
        }
        let keyID = Array(sealed[1..<9])
        guard let key = keys.first(where: { $0.id == keyID }) else {
            throw CredentialError(.unknownKey, message: "The credential was sealed with a key that is not configured.")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed[9...])
            return Array(try AES.GCM.open(box, using: key.key, authenticating: Self.context(tenant, name)))
        } catch {
            throw CredentialError(.tampered, message: "The sealed credential does not open for this tenant and name.")
        }
    }

    /// Whether `sealed` was sealed with another key than the current one (rewrite it after a rotation).
    public func needsResealing(_ sealed: [UInt8]) -> Bool {
        sealed.count < 9 || Array(sealed[1..<9]) != keys[0].id
    }

    private static func context(_ tenant: Tenant, _ name: String) -> [UInt8] {
        Array("stripe-apps-credential\u{0}\(tenant.accountID)\u{0}\(tenant.mode)\u{0}\(name)".utf8)
    }
}
