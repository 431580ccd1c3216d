extension FakeStripe {
    /// The kind of credential a request carried; the key itself is never recorded.
    public struct CredentialKind: Sendable, Hashable, CustomStringConvertible {
        /// `platform`, `restricted`, `oauth`, `missing` or `invalid`.
        public let description: String

        /// A platform secret key, ``FakeStripe/testSecretKey`` or ``FakeStripe/liveSecretKey``.
        public static let platform = CredentialKind(description: "platform")
        /// A restricted key from ``FakeStripe/issueRestrictedKey(account:mode:)``.
        public static let restricted = CredentialKind(description: "restricted")
        /// An OAuth access token from `/v1/oauth/token` (expired ones too).
        public static let oauth = CredentialKind(description: "oauth")
        /// No `Authorization` header, or an empty key.
        public static let missing = CredentialKind(description: "missing")
        /// A key the fake does not know, or an unreadable `Authorization` header.
        public static let invalid = CredentialKind(description: "invalid")
    }
}
