public import HTTPTypes

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
