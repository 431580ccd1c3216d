public import Foundation
public import HTTPTypes
public import NIOCore
public import StripeApps
import StripeAppsServer

/// A Stripe event as a webhook endpoint receives it, for tests: the envelope Stripe sends (`id`, `type`,
/// `account`, `livemode`, `created`, `data.object`), with the object you give.
///
/// ```swift
/// let customer = try #require(StripeFixtures.object("customer")).setting("id", .string("cus_1"))
/// let event = TestEvent("customer.created", account: "acct_1", object: customer)
/// let answer = try await backend.deliver(event)  // signed with the test-mode endpoint's secret
/// ```
public struct TestEvent: Sendable, Hashable {
    /// The event id (`evt_…`).
    public var id: String
    /// The event type, e.g. `customer.created`.
    public var type: String
    /// The connected account the event is about (`acct_…`); `nil` for the platform's own events.
    public var account: String?
    /// Live or test mode (`livemode`).
    public var mode: Tenant.Mode
    /// When Stripe created the event (`created`, whole seconds).
    public var created: Date
    /// `data.object`.
    public var object: PayloadValue
    /// `data.previous_attributes`, for `*.updated` events.
    public var previousAttributes: PayloadValue?

    /// Creates an event.
    ///
    /// - Parameters:
    ///   - id: The event id; a new random `evt_test_…` when `nil`.
    ///   - created: The event's time; 2024-01-01T00:00:00Z (``FakeClock``'s default start) when `nil`.
    public init(
        _ type: String,
        account: String?,
        mode: Tenant.Mode = .test,
        id: String? = nil,
        created: Date? = nil,
        object: PayloadValue,
        previousAttributes: PayloadValue? = nil
    ) {
        self.id = id ?? "evt_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
        self.type = type
        self.account = account
        self.mode = mode
        self.created = created ?? Date(timeIntervalSince1970: 1_704_067_200)
        self.object = object
        self.previousAttributes = previousAttributes
    }

    /// The `account.application.authorized` event Stripe sends when `tenant` installs the app.
    public static func installed(_ tenant: Tenant, id: String? = nil, created: Date? = nil) -> TestEvent {
        TestEvent(
            "account.application.authorized", account: tenant.accountID, mode: tenant.mode, id: id, created: created,
            object: application)
    }

    /// The `account.application.deauthorized` event Stripe sends when `tenant` uninstalls the app.
    public static func uninstalled(_ tenant: Tenant, id: String? = nil, created: Date? = nil) -> TestEvent {
        TestEvent(
            "account.application.deauthorized", account: tenant.accountID, mode: tenant.mode, id: id,
            created: created, object: application)
    }

    private static let application = PayloadValue.object([
        PayloadField("id", .string("ca_test")), PayloadField("object", .string("application")),
        PayloadField("name", .string("Test app")),
    ])

    /// The event as JSON text, fields in Stripe's order.
    public var json: String {
        var data = [PayloadField("object", object)]
        if let previousAttributes { data.append(PayloadField("previous_attributes", previousAttributes)) }
        return PayloadValue.object([
            PayloadField("id", .string(id)),
            PayloadField("object", .string("event")),
            PayloadField("api_version", .string("2025-02-24.acacia")),
            PayloadField("created", .number(created.timeIntervalSince1970.rounded(.down))),
            PayloadField("livemode", .bool(mode.isLive)),
            PayloadField("type", .string(type)),
            PayloadField("account", account.map(PayloadValue.string) ?? .null),
            PayloadField("pending_webhooks", .number(1)),
            PayloadField("request", .object([PayloadField("id", .null), PayloadField("idempotency_key", .null)])),
            PayloadField("data", .object(data)),
        ]).jsonString
    }
}

/// Signs webhook deliveries as Stripe signs them for one endpoint (`Stripe-Signature: t=…,v1=…`), for tests.
public struct WebhookEventSigner: Sendable {
    /// The signer holding the endpoint's secrets.
    public let signer: SignatureSigner

    /// Creates a signer.
    ///
    /// - Parameters:
    ///   - secrets: The endpoint's signing secrets (`whsec_…`); one `v1` per secret, as during a rotation.
    ///   - now: The clock that supplies `t`.
    public init(secrets: [String], now: @escaping @Sendable () -> Date = { Date() }) throws {
        signer = SignatureSigner(keyring: try SigningKeyring(secrets: secrets), now: now)
    }

    /// The headers and body of a delivery of `event`.
    public func delivery(of event: TestEvent, timestamp: Int64? = nil) -> (headers: HTTPFields, body: ByteBuffer) {
        delivery(rawBody: Array(event.json.utf8), timestamp: timestamp)
    }

    /// The headers and body of a delivery of exactly these bytes.
    public func delivery(rawBody: [UInt8], timestamp: Int64? = nil) -> (headers: HTTPFields, body: ByteBuffer) {
        let header = signer.signatureHeader(for: rawBody, timestamp: timestamp).headerValue
        return ([.stripeSignature: header, .contentType: "application/json"], ByteBuffer(bytes: rawBody))
    }
}

/// Signs install redirects as the marketplace does when it sends a user back to the app's redirect URI:
/// `install_signature` over `{"state","user_id","account_id"}` with the app signing secret.
public struct InstallRedirectSigner: Sendable {
    /// The signer holding the app secrets.
    public let signer: SignatureSigner

    /// Creates a signer.
    ///
    /// - Parameters:
    ///   - secrets: The app signing secrets (`absec_…`).
    ///   - now: The clock that supplies `t`.
    public init(secrets: [String], now: @escaping @Sendable () -> Date = { Date() }) throws {
        signer = SignatureSigner(keyring: try SigningKeyring(secrets: secrets), now: now)
    }

    /// The query Stripe adds to the redirect URI: `user_id`, `account_id`, `state`, `install_signature`, and
    /// `livemode=false` for a test-mode install; percent-encoded.
    public func callbackQuery(state: String, userID: String, tenant: Tenant) throws -> String {
        let payload = try InstallRedirectPayload(state: state, userID: userID, accountID: tenant.accountID)
        var items = [
            ("user_id", userID), ("account_id", tenant.accountID), ("state", state),
            ("install_signature", signer.signatureHeader(for: payload.bytes).headerValue),
        ]
        if !tenant.mode.isLive { items.append(("livemode", "false")) }
        return items.map { $0 + "=" + URLComponentEncoding.encode($1) }.joined(separator: "&")
    }
}

/// The example objects of Stripe's `fixtures3.json` (bundled, MIT), for building events and fake answers.
public enum StripeFixtures: Sendable {
    /// The example object of a resource, such as `customer`, `invoice` or `subscription`; `nil` for an unknown name.
    public static func object(_ resource: String) -> PayloadValue? {
        resources?[resource]
    }

    private static let resources: PayloadValue? = {
        guard let url = Bundle.module.url(forResource: "fixtures3", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return (try? PayloadValue.parse(data, maximumDepth: 64))?["resources"]
    }()
}
