import Crypto

/// Verifies the `install_signature` Stripe appends to an install-link redirect.
///
/// By default only Stripe's documented scheme is accepted: a `t=…,v1=…` value over
/// ``InstallRedirectPayload``, signed with the app signing secret, within the time window. The scheme a
/// widely read blog post describes (a bare hex HMAC of the account id, with no timestamp and nothing
/// binding `state` or `user_id`) is accepted only when ``Schemes/officialAndLegacyAccountHMAC`` is chosen
/// explicitly, for apps that were built against it.
public struct InstallSignatureVerifier: Sendable {
    /// Which `install_signature` schemes are accepted.
    public struct Schemes: Sendable, Hashable, CustomStringConvertible {
        let acceptsLegacyAccountHMAC: Bool

        /// Stripe's documented scheme only. The default.
        public static let official = Schemes(acceptsLegacyAccountHMAC: false)
        /// Also accept a bare lowercase hex `HMAC-SHA256(app secret, account_id)`. It proves less: no
        /// timestamp, and `state` and `user_id` are not signed, so callers must still check `state`.
        public static let officialAndLegacyAccountHMAC = Schemes(acceptsLegacyAccountHMAC: true)

        public var description: String { acceptsLegacyAccountHMAC ? "official+legacy-account-hmac" : "official" }
    }

    /// The verifier for the official scheme; it holds the app signing secrets and the time window.
    public let verifier: SignatureVerifier
    /// The accepted schemes.
    public let schemes: Schemes

    /// Creates an install-signature verifier.
    ///
    /// - Parameters:
    ///   - verifier: A verifier holding the **app signing secrets** (the ones that sign UI calls).
    ///   - schemes: ``Schemes/official`` unless an app depends on the legacy scheme.
    public init(verifier: SignatureVerifier, schemes: Schemes = .official) {
        self.verifier = verifier
        self.schemes = schemes
    }

    /// Verifies an `install_signature` for a redirect.
    ///
    /// - Parameters:
    ///   - installSignature: The query parameter, **already URL-decoded** once (as every query parser does).
    ///   - payload: The state the backend issued and the ids from the redirect.
    /// - Returns: Which secret matched; `timestamp` is `nil` for the legacy scheme, which has none.
    /// - Throws: ``SignatureError``.
    public func verify(installSignature: String?, payload: InstallRedirectPayload) throws(SignatureError)
        -> VerifiedInstallSignature
    {
        guard let installSignature, !installSignature.isEmpty else { throw SignatureError(.missingHeader) }
        if schemes.acceptsLegacyAccountHMAC, let legacy = legacyMAC(installSignature) {
            for (index, secret) in verifier.keyring.secrets.enumerated() {
                let mac = Array(payload.accountID.utf8).withUnsafeBytes {
                    secret.mac.authenticationCode(UnsafeRawBufferPointer(start: nil, count: 0), $0)
                }
                if mac == legacy {
                    return VerifiedInstallSignature(
                        isLegacyScheme: true,
                        timestamp: nil,
                        secretIndex: index,
                        secretLabel: secret.label
                    )
                }
            }
            throw SignatureError(.noMatchingSignature)
        }
        let verified = try verifier.verify(payload: payload.bytes, header: installSignature)
        return VerifiedInstallSignature(
            isLegacyScheme: false,
            timestamp: verified.timestamp,
            secretIndex: verified.secretIndex,
            secretLabel: verified.secretLabel
        )
    }

    /// Exactly 64 lowercase hex digits, decoded; anything else is left to the official verifier.
    private func legacyMAC(_ value: String) -> [UInt8]? {
        var value = value
        var bytes: [UInt8] = []
        let ok = value.withUTF8 {
            Hex.decodeLowercase($0, byteCount: SignatureHeader.macByteCount, appendingTo: &bytes)
        }
        return ok ? bytes : nil
    }
}

/// The outcome of a successful ``InstallSignatureVerifier/verify(installSignature:payload:)``.
public struct VerifiedInstallSignature: Sendable, Hashable {
    /// Whether the legacy account-id HMAC matched rather than Stripe's documented scheme.
    public let isLegacyScheme: Bool
    /// The signature time, for the official scheme.
    public let timestamp: Int64?
    /// The position of the matching app secret.
    public let secretIndex: Int
    /// The label of the matching app secret.
    public let secretLabel: String
}
