/// A Dashboard role of the user, as the UI extension SDK reports it in `userContext.roles`.
///
/// Sent as the `stripe_roles` extra value of `fetchStripeSignature`. Stripe refuses to sign a request
/// that claims a role the user does not have, so roles read from a verified payload can be trusted.
public struct StripeRole: Sendable, Hashable, CustomStringConvertible {
    /// `builtIn` or `custom` (custom roles exist for private apps only).
    public let type: String
    /// The role name, for example `Administrator`.
    public let name: String

    /// Creates a role.
    public init(type: String, name: String) {
        self.type = type
        self.name = name
    }

    /// A role Stripe defines (`type` `builtIn`), such as `Administrator`.
    public static func builtIn(_ name: String) -> StripeRole { StripeRole(type: "builtIn", name: name) }

    /// A role an account defines for its private apps (`type` `custom`).
    public static func custom(_ name: String) -> StripeRole { StripeRole(type: "custom", name: name) }

    /// The role as a JSON object, `{"type":…,"name":…}`.
    ///
    /// The inner key order of `RoleDefinition` is not documented; `type` before `name` follows the SDK's
    /// type declaration. Verification of a POST never depends on it, because the raw body is verified.
    public var payloadValue: PayloadValue {
        .object([PayloadField("type", .string(type)), PayloadField("name", .string(name))])
    }

    public var description: String { "\(type):\(name)" }
}
