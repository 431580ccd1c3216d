public import StripeApps

/// A key or token that authenticates calls to the Stripe API, with the mode it works in.
///
/// Its `description` never shows the secret: `sk_test_…(redacted)`. Construct one from configuration; the
/// initializers check the prefix so a live key can never be used as a test key or the other way round.
public struct APICredential: Sendable, Hashable, CustomStringConvertible {
    /// What kind of credential this is.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// The developer's own secret key (`sk_live_…`/`sk_test_…`): platform apps, with `Stripe-Account`.
        public static let secretKey = Kind("secret_key")
        /// A restricted key an installing user copied from the Dashboard (`rk_live_…`/`rk_test_…`).
        public static let restrictedKey = Kind("restricted_key")
        /// An OAuth access token issued to the app for one account.
        public static let oauthAccessToken = Kind("oauth_access_token")

        public var description: String { name }
    }

    /// What kind of credential this is.
    public let kind: Kind
    /// The mode the credential works in.
    public let mode: Tenant.Mode
    let secret: String

    /// A secret key, `sk_live_…` or `sk_test_…`; its mode comes from the prefix.
    public init(secretKey: String) throws(StripeAPIError) {
        self.kind = .secretKey
        self.mode = try Self.mode(of: secretKey, livePrefix: "sk_live_", testPrefix: "sk_test_", kind: "secret key")
        self.secret = secretKey
    }

    /// A restricted key, `rk_live_…` or `rk_test_…`; its mode comes from the prefix.
    public init(restrictedKey: String) throws(StripeAPIError) {
        self.kind = .restrictedKey
        self.mode = try Self.mode(
            of: restrictedKey,
            livePrefix: "rk_live_",
            testPrefix: "rk_test_",
            kind: "restricted key"
        )
        self.secret = restrictedKey
    }

    /// An OAuth access token and the mode it was issued for (`livemode` of the token response).
    ///
    /// Tokens that carry a mode prefix (`sk_live_…`) must agree with `mode`.
    public init(oauthAccessToken: String, mode: Tenant.Mode) throws(StripeAPIError) {
        guard !oauthAccessToken.isEmpty, !oauthAccessToken.contains(where: \.isWhitespace) else {
            throw StripeAPIError(.missingCredential, message: "The OAuth access token is empty or malformed.")
        }
        if let prefixMode = try? Self.mode(
            of: oauthAccessToken, livePrefix: "sk_live_", testPrefix: "sk_test_", kind: ""),
            prefixMode != mode
        {
            throw StripeAPIError(
                .tenantMismatch,
                message: "The OAuth access token is a \(prefixMode)-mode token, not \(mode)."
            )
        }
        self.kind = .oauthAccessToken
        self.mode = mode
        self.secret = oauthAccessToken
    }

    public var description: String { "\(kind)(\(mode), redacted)" }

    /// The `Authorization` header value.
    var authorization: String { "Bearer \(secret)" }

    private static func mode(
        of key: String,
        livePrefix: String,
        testPrefix: String,
        kind: String
    ) throws(StripeAPIError) -> Tenant.Mode {
        let mode: Tenant.Mode
        if key.hasPrefix(livePrefix) {
            mode = .live
        } else if key.hasPrefix(testPrefix) {
            mode = .test
        } else {
            throw StripeAPIError(
                .missingCredential, message: "A \(kind) must start with \(livePrefix) or \(testPrefix).")
        }
        guard key.count > livePrefix.count, !key.contains(where: { $0.isWhitespace || $0 == "," }) else {
            throw StripeAPIError(.missingCredential, message: "The \(kind) is malformed.")
        }
        return mode
    }
}
