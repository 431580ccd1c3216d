public import HTTPTypes
import StripeApps

// These names are valid header tokens, so the failable initializer cannot fail.
// swift-format-ignore: NeverForceUnwrap
extension HTTPField.Name {
    /// `Stripe-Signature`: the `t=…,v1=…` value from `fetchStripeSignature` or on a webhook.
    public static let stripeSignature = Self("Stripe-Signature")!
    /// `Stripe-User-Id`: the user id of a GET or DELETE, signed through the rebuilt payload.
    public static let stripeUserID = Self("Stripe-User-Id")!
    /// `Stripe-Account-Id`: the account id of a GET or DELETE, signed through the rebuilt payload.
    public static let stripeAccountID = Self("Stripe-Account-Id")!
    /// `Stripe-Mode`: `live` or `test` for a GET or DELETE, signed through the rebuilt payload.
    public static let stripeMode = Self("Stripe-Mode")!
}

extension HTTPFields {
    /// The one `Stripe-Signature` line, or `nil` when there is none.
    ///
    /// - Throws: 400 `duplicate_signature_header` for more than one line: HTTP would join them with a comma,
    ///   and a second `t=` could then slip past the rule that a header carries exactly one timestamp.
    func singleStripeSignature() throws -> String? {
        let lines = self[values: .stripeSignature]
        guard lines.count <= 1 else {
            throw APIError.badRequest(
                "duplicate_signature_header", "Send one Stripe-Signature header line, not \(lines.count).")
        }
        return lines.first
    }
}

extension HTTPFields {
    /// Whether `Authorization: Bearer <token>` carries `token`, compared in constant time (the server-to-server
    /// routes and `/metrics`).
    func carriesBearerToken(_ token: String) -> Bool {
        guard let value = self[.authorization], value.hasPrefix("Bearer ") else { return false }
        return ConstantTime.isEqual(String(value.dropFirst(7)), token)
    }
}
