import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsServer

/// `simulate event`: sends a correctly signed event to a running backend.
struct SimulateEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Send a signed app event (or any event type) to a running backend's webhook endpoint.",
        discussion: """
            Stripe's CLI cannot trigger account.application.authorized or .deauthorized; this can. The event's \
            data.object is an application for account.application.* events, else Stripe's example object of the \
            type's resource (e.g. invoice for invoice.paid) from the bundled fixtures3.json, or --fixture NAME. \
            Signed with --secret, else the first of STRIPE_WEBHOOK_SECRETS_LIVE or _TEST (by endpoint).
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "The backend's base URL, e.g. http://127.0.0.1:8080.")
    var to: String

    @Option(help: "The event type.")
    var type: String = "account.application.authorized"

    @Option(help: "The account the event is about.")
    var account: String = "acct_simulated"

    @Flag(help: "A test-mode event (livemode=false), sent to /webhooks/test unless --endpoint says otherwise.")
    var test = false

    @Option(help: "live or test: which endpoint receives it (test events also reach live endpoints).")
    var endpoint: String?

    @Option(help: "The event id (default: a new evt_…).")
    var id: String?

    @Option(help: "The event's created time, Unix seconds (default: now).")
    var created: Int64?

    @Option(help: "The fixtures3.json resource to use as data.object.")
    var fixture: String?

    @Option(name: .customLong("secret"), help: "The endpoint's signing secret (whsec_…).")
    var secrets: [String] = []

    func run() async throws {
        let endpoint = endpoint ?? (test ? "test" : "live")
        guard endpoint == "live" || endpoint == "test" else {
            throw ValidationError("--endpoint must be live or test.")
        }
        let object = try dataObject()
        let eventID = id ?? "evt_sim_" + InstallState.newStateValue().prefix(24)
        let event = PayloadValue.object([
            PayloadField("id", .string(eventID)),
            PayloadField("object", .string("event")),
            PayloadField("api_version", .string("2025-02-24.acacia")),
            PayloadField("created", .number(Double(created ?? Int64(Date().timeIntervalSince1970)))),
            PayloadField("livemode", .bool(!test)),
            PayloadField("type", .string(type)),
            PayloadField("account", .string(account)),
            PayloadField("pending_webhooks", .number(1)),
            PayloadField("request", .object([PayloadField("id", .null), PayloadField("idempotency_key", .null)])),
            PayloadField("data", .object([PayloadField("object", object)])),
        ])
        let body = Array(event.jsonString.utf8)
        let keyring = try await webhookKeyring(endpoint: endpoint)
        let header = SignatureSigner(keyring: keyring).signatureHeader(for: body).headerValue

        var request = HTTPClientRequest(
            url: URLComponentEncoding.withoutTrailingSlashes(to) + "/webhooks/" + endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Stripe-Signature", value: header)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.send(request)
        let answer = String(buffer: try await response.body.collect(upTo: 1 << 20))
        print("POST /webhooks/\(endpoint) \(eventID) \(type) -> \(response.status.code) \(answer)")
        guard (200..<300).contains(response.status.code) else { throw ExitCode(1) }
    }

    private func dataObject() throws -> PayloadValue {
        if fixture == nil, type.hasPrefix("account.application.") {
            return .object([
                PayloadField("id", .string("ca_simulated")), PayloadField("object", .string("application")),
                PayloadField("name", .string("Simulated app")),
            ])
        }
        guard let url = Bundle.module.url(forResource: "fixtures3", withExtension: "json"),
            let data = FileManager.default.contents(atPath: url.path),
            let resources = try PayloadValue.parse(Array(data), maximumDepth: 64)["resources"]
        else {
            throw CommandError("fixture_not_found", "the bundled fixtures3.json cannot be read.")
        }
        let candidates = fixture.map { [$0] } ?? Self.fixtureNames(forEventType: type)
        guard let resource = candidates.lazy.compactMap({ resources[$0] }).first else {
            throw ValidationError(
                "No fixture for \(fixture.map { "--fixture \($0)" } ?? type) (tried \(candidates.joined(separator: ", "))); "
                    + "pass --fixture with a resource of Stripe's fixtures3.json (e.g. customer, invoice, subscription)."
            )
        }
        return resource
    }

    /// The fixtures3.json resources an event type's object may be, most specific first: the type without its
    /// action (`customer.subscription`), then without each leading part (`subscription`), and with the first `_`
    /// as a namespace dot (`issuing_card` → `issuing.card`).
    static func fixtureNames(forEventType type: String) -> [String] {
        let parts = type.split(separator: ".").dropLast().map(String.init)
        var names: [String] = []
        for start in parts.indices {
            let name = parts[start...].joined(separator: ".")
            names.append(name)
            if let underscore = name.firstIndex(of: "_"), !name.contains(".") {
                names.append(name.replacingCharacters(in: underscore...underscore, with: "."))
            }
        }
        return names
    }

    private func webhookKeyring(endpoint: String) async throws -> SigningKeyring {
        if !secrets.isEmpty {
            let keyring = try SigningKeyring(secrets: secrets)
            announceSigning(with: keyring, from: "--secret")
            return keyring
        }
        let configuration = try await options.read()
        let variable = "STRIPE_WEBHOOK_SECRETS_\(endpoint.uppercased())"
        if let keyring = endpoint == "live" ? configuration.webhookSecretsLive : configuration.webhookSecretsTest {
            announceSigning(with: keyring, from: variable)
            return keyring
        }
        guard configuration.isDevelopmentMode, let mode = Tenant.Mode(endpoint) else {
            throw CommandError(
                "no_signing_secret",
                "\(variable) is not set: pass --secret whsec_…, set it, or --config with the server's file.",
                exitCode: 2)
        }
        // Development mode: the endpoint's secret that `serve` keeps in the database; read, never created.
        let (keyring, source) = try await storedDevelopmentKeyring(
            key: developmentWebhookSecretKey(for: mode), label: "development \(mode)",
            secretName: "development webhook secret", variable: variable, configuration: configuration)
        announceSigning(with: keyring, from: source)
        return keyring
    }
}
