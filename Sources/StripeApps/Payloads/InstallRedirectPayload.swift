/// The JSON Stripe signs in the `install_signature` of an install-link redirect.
///
/// Stripe's documented form is the compact `{"state":…,"user_id":…,"account_id":…}`, in that order, signed
/// with the app signing secret. `livemode` is not signed, so it cannot be trusted on its own.
///
/// A `state` is required here. Without it the payload would be `{"user_id":…,"account_id":…}`, byte for
/// byte the default UI-extension payload, and any signature captured from a UI call would pass as an
/// install signature.
public struct InstallRedirectPayload: Sendable, Hashable {
    /// The CSRF state the backend put in the install link, returned unchanged by Stripe.
    public let state: String
    /// The installing user (`usr_…`).
    public let userID: String
    /// The installing account (`acct_…`).
    public let accountID: String

    /// Creates a payload.
    ///
    /// - Throws: ``SignatureError/Code/invalidPayload`` when `state` is empty.
    public init(state: String, userID: String, accountID: String) throws(SignatureError) {
        guard !state.isEmpty else {
            throw SignatureError(.invalidPayload, message: "An install redirect must carry a non-empty state.")
        }
        self.state = state
        self.userID = userID
        self.accountID = accountID
    }

    /// The exact JSON text Stripe signs.
    public var jsonString: String {
        PayloadValue.object([
            PayloadField("state", .string(state)),
            PayloadField("user_id", .string(userID)),
            PayloadField("account_id", .string(accountID)),
        ]).jsonString
    }

    /// The UTF-8 bytes of ``jsonString``.
    public var bytes: [UInt8] { Array(jsonString.utf8) }
}
