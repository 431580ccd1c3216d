public import StripeApps

extension FakeStripe {
    /// One request as the fake received it, in arrival order.
    public struct RecordedRequest: Sendable {
        /// The `Request-Id` the fake answered with, `req_…`.
        public let requestID: String
        /// The method, such as `POST`.
        public let method: String
        /// The path without the query, such as `/v1/customers`.
        public let path: String
        /// The decoded form parameters (the query string of a GET, the body of a POST), always an object;
        /// empty when they could not be decoded.
        public let parameters: PayloadValue
        /// The `Stripe-Account` header.
        public let stripeAccount: String?
        /// The `Idempotency-Key` header.
        public let idempotencyKey: String?
        /// The `Stripe-Version` header.
        public let stripeVersion: String?
        /// The kind of credential used.
        public let credential: CredentialKind
        /// The mode of the credential; `nil` when it was missing or unknown.
        public let mode: Tenant.Mode?
        /// The fault injected into this request, if any.
        public let fault: Fault?
        /// The status answered; `nil` while in flight and for dropped connections.
        public internal(set) var status: Int?
        /// Whether the answer was an `Idempotency-Key` replay.
        public internal(set) var wasReplayed: Bool
    }
}
