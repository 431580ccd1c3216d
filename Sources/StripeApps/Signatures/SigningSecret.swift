import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One signing secret: an app signing secret (`absec_…`) or a webhook endpoint secret (`whsec_…`).
///
/// The whole string, prefix included, is the HMAC-SHA256 key. The keyed HMAC state is computed once
/// here and copied for every message, which halves the cost of a verification.
///
/// `description` and `debugDescription` are redacted, so a secret printed by accident, interpolated
/// into a log line or dumped in a test failure shows only its ``fingerprint``.
public struct SigningSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A short name chosen by the operator (for example `current` or `previous`), or the secret's position.
    public let label: String
    /// The first 8 hex digits of SHA-256 of the secret: enough to tell secrets apart, useless to an attacker.
    public let fingerprint: String
    let mac: KeyedMAC
    let keyBytes: [UInt8]

    /// Creates a signing secret.
    ///
    /// - Parameters:
    ///   - value: The secret exactly as Stripe shows it. It is not trimmed: a pasted trailing newline is
    ///     part of the key and will not verify, so trim configuration values before calling this.
    ///   - label: A name to report when this secret matched. Defaults to the fingerprint.
    /// - Throws: ``SignatureError/Code/emptySecret`` when `value` is empty.
    public init(_ value: String, label: String? = nil) throws(SignatureError) {
        guard !value.isEmpty else { throw SignatureError(.emptySecret) }
        self.keyBytes = Array(value.utf8)
        self.mac = KeyedMAC(key: keyBytes)
        let digest = SHA256.hash(data: keyBytes)
        self.fingerprint = String(Hex.encode(digest).prefix(8))
        self.label = label ?? fingerprint
    }

    /// Whether the secret starts or ends with whitespace, which is almost always a copy-and-paste mistake.
    public var hasSurroundingWhitespace: Bool {
        guard let first = keyBytes.first, let last = keyBytes.last else { return false }
        return Self.isWhitespace(first) || Self.isWhitespace(last)
    }

    /// The kind of secret its prefix suggests: `absec_` for app signing secrets, `whsec_` for webhooks.
    public var looksLikeAppSecret: Bool { keyBytes.starts(with: Array("absec_".utf8)) }

    /// Whether the prefix is `whsec_`, the prefix of webhook endpoint secrets.
    public var looksLikeWebhookSecret: Bool { keyBytes.starts(with: Array("whsec_".utf8)) }

    public var description: String { "SigningSecret(\(label), sha256:\(fingerprint)…, redacted)" }

    public var debugDescription: String { description }

    /// Computes the `v1` MAC of `"<timestamp>." + payload`, without concatenating them in memory.
    func authenticationCode(timestamp: Int64, payload: UnsafeRawBufferPointer) -> SHA256Digest {
        TimestampPrefix(timestamp).withBytes { mac.authenticationCode($0, payload) }
    }

    /// Computes the `v1` MAC of `"<timestamp>." + payload` for any byte collection.
    func authenticationCode(timestamp: Int64, payload: some DataProtocol) -> SHA256Digest {
        withContiguousBytes(of: payload) { authenticationCode(timestamp: timestamp, payload: $0) }
    }
}
