import Foundation
import StripeApps

/// One authorized request on its way to an endpoint.
struct FakeStripeCall: Sendable {
    /// The method, such as `GET`.
    let method: String
    /// The path, such as `/v1/customers/cus_1`.
    let path: String
    /// The percent-decoded path segments after the leading `/`.
    let segments: [String]
    /// The decoded parameters.
    let parameters: FakeStripeParameters
    /// The account and mode the request acts on.
    let tenant: Tenant
    /// The credential used.
    let credential: FakeStripeCredential
    /// The `Request-Id` of the answer.
    let requestID: String
    /// The `Idempotency-Key` header.
    let idempotencyKey: String?
    /// The injected clock's time when the request executes.
    let now: Date
    /// The fake's configuration.
    let settings: FakeStripeSettings

    /// `now` in whole Unix seconds, as Stripe's timestamps are.
    var timestamp: Int64 {
        Int64(now.timeIntervalSince1970.rounded(.down))
    }

    /// Whether the acting account is a connected account rather than the platform itself.
    var isConnectedAccount: Bool {
        tenant.accountID != settings.platformAccountID
    }
}
