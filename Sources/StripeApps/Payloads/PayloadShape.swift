/// The shape of a Stripe id: a prefix such as `acct_` or `usr_`, then 1 to 255 ASCII letters, digits or
/// underscores.
///
/// Stripe's ids vary in length, so no fixed length is assumed; the limit only keeps an absurd value out of
/// storage and logs.
public enum StripeID: Sendable {
    /// The most characters after the prefix.
    public static let maximumSuffixLength = 255

    /// Whether `value` is `prefix` followed by 1 to ``maximumSuffixLength`` letters, digits or underscores.
    public static func isValid(_ value: String, prefix: String) -> Bool {
        let bytes = value.utf8
        let prefixBytes = prefix.utf8
        guard bytes.starts(with: prefixBytes) else { return false }
        let suffix = bytes.dropFirst(prefixBytes.count)
        return (1...maximumSuffixLength).contains(suffix.count) && suffix.allSatisfy(isIDByte)
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}

/// A verified UI payload whose content has the wrong shape: authentic, yet not what a Stripe UI extension sends.
///
/// A signature proves who sent a payload, not that its values are sane; ``UIRequestPayload/validateShape()``
/// refuses what no Dashboard would sign for a real user and account before anything stores or logs it. Each code's
/// causes and fix: `Docs/troubleshooting.md`.
public struct PayloadShapeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable snake_case identifier, e.g. `invalid_account_id`.
        public let description: String

        private init(_ description: String) {
            self.description = description
        }

        /// `account_id` is not `acct_` followed by 1 to 255 letters, digits or underscores.
        public static let invalidAccountID = Code("invalid_account_id")
        /// `user_id` is not `usr_` followed by 1 to 255 letters, digits or underscores.
        public static let invalidUserID = Code("invalid_user_id")
        /// `stripe_roles` is not an array of at most 100 `{"type":…,"name":…}` objects of short strings.
        public static let invalidRoles = Code("invalid_roles")
        /// An extra key is `state`: that payload would be byte for byte an install redirect's, so its signature
        /// could be replayed as one, or one captured from an install redirect replayed here.
        public static let reservedKey = Code("reserved_key")
    }

    /// Why the payload was refused.
    public let code: Code
    /// A safe explanation: it names the field, never its value.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension UIRequestPayload {
    /// The most roles `stripe_roles` may list.
    public static let maximumRoles = 100
    /// The most UTF-8 bytes of a role's type or name.
    public static let maximumRoleFieldBytes = 255

    /// Checks that a verified payload has the shape of what a UI extension sends: `acct_` and `usr_` ids of
    /// 1 to 255 letters, digits or underscores, well-formed `stripe_roles`, and no extra key `state`.
    ///
    /// Call it after verification, before using the payload; the server's signed routes do.
    ///
    /// - Throws: ``PayloadShapeError`` with a stable code.
    public func validateShape() throws(PayloadShapeError) {
        guard StripeID.isValid(accountID, prefix: "acct_") else {
            throw PayloadShapeError(
                .invalidAccountID, "The signed account_id is not acct_ followed by 1 to 255 letters, digits or _.")
        }
        guard StripeID.isValid(userID, prefix: "usr_") else {
            throw PayloadShapeError(
                .invalidUserID, "The signed user_id is not usr_ followed by 1 to 255 letters, digits or _.")
        }
        guard self[extra: "state"] == nil else {
            throw PayloadShapeError(
                .reservedKey, "An extra value may not be named state: that payload is an install redirect's.")
        }
        if let roles = self[extra: "stripe_roles"], !Self.isWellFormed(roles: roles) {
            throw PayloadShapeError(
                .invalidRoles,
                "stripe_roles must be an array of at most \(Self.maximumRoles) objects with string type and name "
                    + "(1 to \(Self.maximumRoleFieldBytes) bytes each), as userContext.roles gives them.")
        }
    }

    private static func isWellFormed(roles value: PayloadValue) -> Bool {
        guard case .array(let roles) = value, roles.count <= maximumRoles else { return false }
        return roles.allSatisfy { role in
            guard let type = role["type"]?.stringValue, let name = role["name"]?.stringValue else { return false }
            return [type, name].allSatisfy { (1...maximumRoleFieldBytes).contains($0.utf8.count) }
        }
    }
}
