/// The JSON a UI extension's `fetchStripeSignature` call makes Stripe sign.
///
/// - `fetchStripeSignature()` signs `{"user_id":"usr_…","account_id":"acct_…"}`, compact, in that order.
/// - `fetchStripeSignature(extra)` signs the extra keys first, in insertion order, then `user_id` and
///   `account_id`: `{"transaction_id":"ipi_…","amount":100,"user_id":"usr_…","account_id":"acct_…"}`.
/// - Roles are the extra key `stripe_roles`, an array of `{"type":…,"name":…}`.
///
/// For a POST, verify the raw body and then read it with ``init(verifiedJSON:)``; build the payload only
/// when nothing raw was sent, as for a GET whose identity arrives in `Stripe-User-Id` and
/// `Stripe-Account-Id` headers.
public struct UIRequestPayload: Sendable, Hashable {
    /// The Dashboard user (`usr_…`).
    public let userID: String
    /// The account that has the app installed (`acct_…`): the tenant.
    public let accountID: String
    /// The extra members, in order, `stripe_roles` included when present.
    public let extra: [PayloadField]

    /// Creates a payload.
    ///
    /// - Parameters:
    ///   - userID: The user id.
    ///   - accountID: The account id.
    ///   - extra: Extra members in the order the extension passed them.
    ///   - roles: When not `nil`, appended to the extra members as `stripe_roles`.
    /// - Throws: ``SignatureError/Code/invalidPayload`` when an extra key is `user_id` or `account_id`, or
    ///   repeats: Stripe does not document what it signs then.
    public init(userID: String, accountID: String, extra: [PayloadField] = [], roles: [StripeRole]? = nil)
        throws(SignatureError)
    {
        var fields = extra
        if let roles { fields.append(PayloadField("stripe_roles", .array(roles.map(\.payloadValue)))) }
        var seen: Set<String> = []
        for field in fields {
            guard field.key != "user_id", field.key != "account_id", seen.insert(field.key).inserted else {
                throw SignatureError(
                    .invalidPayload,
                    message: "Extra payload keys must be unique and must not be user_id or account_id."
                )
            }
        }
        self.userID = userID
        self.accountID = accountID
        self.extra = fields
    }

    /// Reads a payload from a verified request body.
    ///
    /// - Parameter verifiedJSON: The raw body, after ``SignatureVerifier`` accepted it.
    /// - Throws: ``SignatureError/Code/invalidPayload`` when the body is not a JSON object with string
    ///   `user_id` and `account_id`.
    public init(verifiedJSON: some Sequence<UInt8>) throws(SignatureError) {
        guard case .object(let fields) = try PayloadValue.parse(verifiedJSON) else {
            throw SignatureError(.invalidPayload, message: "The signed payload is not a JSON object.")
        }
        guard let userID = fields.first(where: { $0.key == "user_id" })?.value.stringValue,
            let accountID = fields.first(where: { $0.key == "account_id" })?.value.stringValue
        else {
            throw SignatureError(.invalidPayload, message: "The signed payload has no user_id or account_id string.")
        }
        self.userID = userID
        self.accountID = accountID
        self.extra = fields.filter { $0.key != "user_id" && $0.key != "account_id" }
    }

    /// The roles in `stripe_roles`, or an empty array when the extension did not send them.
    public var roles: [StripeRole] {
        guard case .array(let values)? = extra.first(where: { $0.key == "stripe_roles" })?.value else { return [] }
        return values.compactMap { value in
            guard let type = value["type"]?.stringValue, let name = value["name"]?.stringValue else { return nil }
            return StripeRole(type: type, name: name)
        }
    }

    /// The value of an extra member.
    public subscript(extra key: String) -> PayloadValue? {
        extra.first { $0.key == key }?.value
    }

    /// The exact JSON text Stripe signs for this payload.
    public var jsonString: String {
        PayloadValue.object(
            extra + [PayloadField("user_id", .string(userID)), PayloadField("account_id", .string(accountID))]
        )
        .jsonString
    }

    /// The UTF-8 bytes of ``jsonString``, ready for ``SignatureVerifier/verify(payload:header:)``.
    public var bytes: [UInt8] { Array(jsonString.utf8) }
}
