/// What a successful verification proved: the payload was signed at ``timestamp`` with a known secret.
public struct VerifiedSignature: Sendable, Hashable {
    /// The signature timestamp (`t`) in Unix seconds.
    public let timestamp: Int64
    /// The position of the matching secret in the keyring.
    public let secretIndex: Int
    /// The label of the matching secret (see ``SigningSecret/label``).
    public let secretLabel: String
    /// The fingerprint of the matching secret (see ``SigningSecret/fingerprint``).
    public let secretFingerprint: String
}
