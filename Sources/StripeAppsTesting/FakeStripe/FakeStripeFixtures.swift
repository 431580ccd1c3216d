import Foundation
import StripeApps

/// The example objects of Stripe's `fixtures3.json` that shape the fake's answers.
///
/// Loaded once from the bundle; should the resource be unreadable, small hand-written objects with the same
/// essential fields stand in, so the fake keeps working.
struct FakeStripeFixtures: Sendable {
    /// `resources.account`.
    let account: PayloadValue
    /// `resources.customer`.
    let customer: PayloadValue
    /// `resources.event`.
    let event: PayloadValue
    /// `resources["apps.secret"]`.
    let secret: PayloadValue

    /// The bundled fixtures.
    static let shared: FakeStripeFixtures = load() ?? fallback

    private static func load() -> FakeStripeFixtures? {
        guard let url = Bundle.module.url(forResource: "fixtures3", withExtension: "json"),
            let data = try? Data(contentsOf: url),
            let root = try? PayloadValue.parse(data, maximumDepth: 64),
            let resources = root["resources"],
            let account = resources["account"],
            let customer = resources["customer"],
            let event = resources["event"],
            let secret = resources["apps.secret"]
        else { return nil }
        return FakeStripeFixtures(account: account, customer: customer, event: event, secret: secret)
    }

    private static let fallback = FakeStripeFixtures(
        account: .object([
            PayloadField("id", .string("acct_fixture")),
            PayloadField("object", .string("account")),
            PayloadField("charges_enabled", .bool(false)),
            PayloadField("country", .string("US")),
            PayloadField("default_currency", .string("usd")),
            PayloadField("metadata", .object([])),
            PayloadField("type", .string("standard")),
        ]),
        customer: .object([
            PayloadField("id", .string("cus_fixture")),
            PayloadField("object", .string("customer")),
            PayloadField("created", .number(0)),
            PayloadField("description", .null),
            PayloadField("email", .null),
            PayloadField("livemode", .bool(false)),
            PayloadField("metadata", .object([])),
            PayloadField("name", .null),
        ]),
        event: .object([
            PayloadField("api_version", .null),
            PayloadField("created", .number(0)),
            PayloadField("data", .object([PayloadField("object", .object([]))])),
            PayloadField("id", .string("evt_fixture")),
            PayloadField("livemode", .bool(false)),
            PayloadField("object", .string("event")),
            PayloadField("pending_webhooks", .number(0)),
            PayloadField("request", .object([PayloadField("id", .null), PayloadField("idempotency_key", .null)])),
            PayloadField("type", .string("customer.created")),
        ]),
        secret: .object([
            PayloadField("created", .number(0)),
            PayloadField("expires_at", .null),
            PayloadField("id", .string("appsecret_fixture")),
            PayloadField("livemode", .bool(false)),
            PayloadField("name", .string("fixture")),
            PayloadField("object", .string("apps.secret")),
            PayloadField("scope", .object([PayloadField("type", .string("account"))])),
        ])
    )
}
