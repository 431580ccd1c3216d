extension SigningSecret {
    /// What a secret string is, judged by its prefix: the kinds of key a Stripe App developer is likely to hold.
    ///
    /// Only ``appSigningSecret`` and ``webhookSecret`` sign anything Stripe sends a backend; the API keys never sign.
    /// The description names the kind and its prefix, never the rest of the secret.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case appSigningSecret, developmentAppSecret, webhookSecret, secretKey, restrictedKey, publishableKey
            case unknown
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// `absec_…`: the app's signing secret, which signs UI-extension calls and install redirects.
        public static let appSigningSecret = Kind(.appSigningSecret)
        /// `absec_dev_…`: the local secret `serve` generates in development mode. Stripe never signs with it.
        public static let developmentAppSecret = Kind(.developmentAppSecret)
        /// `whsec_…`: a webhook endpoint's signing secret (one per endpoint and mode; the Stripe CLI has its own).
        public static let webhookSecret = Kind(.webhookSecret)
        /// `sk_live_…` / `sk_test_…`: a secret API key. It authenticates calls to Stripe and signs nothing.
        public static let secretKey = Kind(.secretKey)
        /// `rk_live_…` / `rk_test_…`: a restricted API key. It authenticates calls to Stripe and signs nothing.
        public static let restrictedKey = Kind(.restrictedKey)
        /// `pk_live_…` / `pk_test_…`: a publishable key, public by design. It signs nothing.
        public static let publishableKey = Kind(.publishableKey)
        /// Any other string.
        public static let unknown = Kind(.unknown)

        /// Whether Stripe signs anything with a secret of this kind (app signing and webhook secrets).
        public var isSigningSecret: Bool { self == .appSigningSecret || self == .webhookSecret }

        /// Whether this is an API key (`sk_`, `rk_` or `pk_`), which authenticates calls and never signs.
        public var isAPIKey: Bool { self == .secretKey || self == .restrictedKey || self == .publishableKey }

        public var description: String {
            switch base {
            case .appSigningSecret: "an app signing secret (absec_…)"
            case .developmentAppSecret: "the development app secret of serve (absec_dev_…)"
            case .webhookSecret: "a webhook endpoint secret (whsec_…)"
            case .secretKey: "a secret API key (sk_…)"
            case .restrictedKey: "a restricted API key (rk_…)"
            case .publishableKey: "a publishable key (pk_…)"
            case .unknown: "a string with no known Stripe prefix"
            }
        }

        /// The kind of `bytes`, ignoring surrounding whitespace.
        static func of(_ bytes: [UInt8]) -> Kind {
            let trimmed = bytes.drop { SigningSecret.isWhitespace($0) }
            func has(_ prefix: String) -> Bool { trimmed.starts(with: prefix.utf8) }
            if has("absec_dev_") { return .developmentAppSecret }
            if has("absec_") { return .appSigningSecret }
            if has("whsec_") { return .webhookSecret }
            if has("sk_live_") || has("sk_test_") { return .secretKey }
            if has("rk_live_") || has("rk_test_") { return .restrictedKey }
            if has("pk_live_") || has("pk_test_") { return .publishableKey }
            return .unknown
        }
    }

    /// The kind of secret its prefix suggests (leading whitespace ignored).
    public var kind: Kind { Kind.of(keyBytes) }

    /// Whether the secret contains a space, tab or line break anywhere: part of the HMAC key, so almost always a
    /// copy-and-paste mistake (``hasSurroundingWhitespace`` checks only the ends).
    public var containsWhitespace: Bool { keyBytes.contains(where: Self.isWhitespace) }

    /// How the secret can be named in logs, error hints and CLI output: its label, kind and fingerprint, never
    /// any of its characters beyond the kind's prefix. For example `#0 (an app signing secret (absec_…), sha256:1a2b3c4d)`.
    public var safeDescription: String { "\(label) (\(kind), sha256:\(fingerprint))" }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
