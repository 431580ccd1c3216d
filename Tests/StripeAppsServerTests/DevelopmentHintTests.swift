import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Testing

/// A 401 from a signed route explains itself in development mode only (issue 16, item 2): the body carries a
/// `hint` and the refusal's log line too; in production the body stays exactly as it was, codes and messages only.
@Suite struct DevelopmentHintTests {
    static let developmentSecret = "absec_dev_0123456789abcdef0123456789abcdef"
    static let webhookSecret = "whsec_development_endpoint"

    /// What production answered before hints existed, byte for byte.
    static let productionBodies = [
        "no_matching_signature":
            #"{"error":{"code":"no_matching_signature","message":"No signature matches the payload. Check that the exact raw body is verified and that the secret is the right one (app signing secret for UI calls and installs, the endpoint's webhook secret for events)."}}"#,
        "missing_header": #"{"error":{"code":"missing_header","message":"No signature was provided."}}"#,
        "timestamp_outside_tolerance":
            #"{"error":{"code":"timestamp_outside_tolerance","message":"The signature is 3900 s old; at most 300 s is accepted. Check the server clock."}}"#,
        "malformed_header":
            #"{"error":{"code":"malformed_header","message":"The header has no t element."}}"#,
    ]

    /// The same refused requests for both modes: what each sends, and the hint's leading finding in development.
    struct Case: Sendable {
        let name: String
        let path: String
        let method: HTTPRequest.Method
        let headers: HTTPFields
        let body: String?
        let code: String
        let finding: String
    }

    static func cases(secret: String, webhookSecret: String) throws -> [Case] {
        let signer = try UIExtensionSigner(secrets: [secret], now: { testNow })
        let other = try UIExtensionSigner(secrets: ["absec_the_real_app_secret"], now: { testNow })
        let signed = try signer.post(userID: "usr_1", accountID: "acct_1")
        let reordered = #"{"account_id":"acct_1","user_id":"usr_1"}"#
        var modeNotSigned = try signer.get(userID: "usr_1", accountID: "acct_1")
        modeNotSigned.headers[.stripeMode] = "test"
        let old = try signer.post(userID: "usr_1", accountID: "acct_1", timestamp: 1_700_000_000 - 3900)
        let event = WebhookRouteTests.event()
        let webhookHeader = SignatureSigner(keyring: try SigningKeyring(secrets: [webhookSecret]))
            .signatureHeader(for: Array(event.utf8), timestamp: 1_700_000_000).headerValue
        let pretty = event.replacingOccurrences(of: ",", with: ", ")
        return [
            Case(
                name: "keys reordered", path: "/api/whoami", method: .post, headers: signed.headers, body: reordered,
                code: "no_matching_signature", finding: "payload_key_order"),
            Case(
                name: "signed by the Dashboard, not the development secret", path: "/api/whoami", method: .post,
                headers: try other.post(userID: "usr_1", accountID: "acct_1").headers,
                body: #"{"user_id":"usr_1","account_id":"acct_1"}"#, code: "no_matching_signature",
                finding: "no_explanation"),
            Case(
                name: "a Stripe-Mode the extension did not sign", path: "/api/settings", method: .get,
                headers: modeNotSigned.headers, body: nil, code: "no_matching_signature", finding: "mode_not_signed"),
            Case(
                name: "no header", path: "/api/whoami", method: .post, headers: [.contentType: "application/json"],
                body: "{}", code: "missing_header", finding: "header_missing"),
            Case(
                name: "an hour old", path: "/api/whoami", method: .post, headers: old.headers,
                body: String(buffer: old.body ?? ByteBuffer()), code: "timestamp_outside_tolerance",
                finding: "timestamp_too_old"),
            Case(
                name: "the header's name pasted in", path: "/api/whoami", method: .post,
                headers: [.stripeSignature: "Stripe-Signature: " + (signed.headers[.stripeSignature] ?? "")],
                body: String(buffer: signed.body ?? ByteBuffer()), code: "malformed_header",
                finding: "header_includes_name"),
            Case(
                name: "a webhook body re-serialized", path: "/webhooks/test", method: .post,
                headers: [.stripeSignature: webhookHeader], body: pretty, code: "no_matching_signature",
                finding: "payload_reserialized"),
            Case(
                name: "a webhook signed with the app secret", path: "/webhooks/test", method: .post,
                headers: [.stripeSignature: signer.post(rawBody: Array(event.utf8)).headers[.stripeSignature] ?? ""],
                body: event, code: "no_matching_signature", finding: "no_explanation"),
        ]
    }

    func send(_ client: some TestClientProtocol, _ item: Case) async throws -> TestResponse {
        try await client.execute(
            uri: item.path, method: item.method, headers: item.headers, body: item.body.map { ByteBuffer(string: $0) })
    }

    @Test func developmentAnswersAndLogsAHintThatNamesNoSecret() async throws {
        let storage = InMemoryStorage()
        _ = try await storage.metadata.value(forKey: developmentSecretKey, insertingIfMissing: Self.developmentSecret)
        var configuration = AppConfiguration(port: 0, databaseURL: "sqlite::memory:")
        configuration.webhookSecretsTest = try SigningKeyring(secrets: [Self.webhookSecret])
        #expect(configuration.isDevelopmentMode)
        let sink = LogSink()
        try await withTestApp(configuration: configuration, storage: storage, logger: sink.logger) { client in
            // A correct request still passes: hints change nothing of verification.
            let valid = try UIExtensionSigner(secrets: [Self.developmentSecret], now: { testNow })
                .post(userID: "usr_1", accountID: "acct_1")
            #expect(try await client.execute("/api/whoami", .post, valid).status == .ok)

            for item in try Self.cases(secret: Self.developmentSecret, webhookSecret: Self.webhookSecret) {
                let response = try await send(client, item)
                #expect(response.status == .unauthorized, "\(item.name)")
                let error = try #require(try response.json()["error"], "\(item.name)")
                #expect(error["code"]?.stringValue == item.code, "\(item.name)")
                let hint = try #require(error["hint"]?.stringValue, "\(item.name): \(response.text)")
                guard case .array(let codes)? = error["hint_codes"] else {
                    Issue.record("\(item.name): no hint_codes")
                    continue
                }
                let problems = codes.compactMap(\.stringValue)
                #expect(problems.first == item.finding, "\(item.name): \(hint)")
                for secret in [Self.developmentSecret, Self.webhookSecret, "absec_the_real_app_secret"] {
                    #expect(!response.text.contains(secret), "\(item.name)")
                }
                #expect(!response.text.contains("v1="), "\(item.name): no signature is echoed")
            }
            let dashboard = try await send(
                client, try Self.cases(secret: Self.developmentSecret, webhookSecret: Self.webhookSecret)[1])
            #expect(dashboard.text.contains("development mode"))
            #expect(dashboard.text.contains("secret_is_development_secret"))
        }
        let logged = await sink.line(containing: "payload_key_order")
        #expect(logged?.contains("rejected signed request") == true)
        #expect(logged?.contains("signature.hint") == true)
        #expect(!sink.all.contains(Self.developmentSecret))
        #expect(await sink.line(containing: "rejected webhook")?.contains("signature.hint") == true)
    }

    @Test func productionAnswersExactlyAsBeforeAndLogsNoHint() async throws {
        var configuration = try AppConfiguration.testing(maximumBodyBytes: 64 * 1024)
        configuration.webhookSecretsTest = try SigningKeyring(secrets: [Self.webhookSecret])
        #expect(!configuration.isDevelopmentMode)
        let sink = LogSink()
        try await withTestApp(configuration: configuration, installed: [], logger: sink.logger) { client in
            for item in try Self.cases(secret: appSecret, webhookSecret: Self.webhookSecret) {
                let response = try await send(client, item)
                #expect(response.status == .unauthorized, "\(item.name)")
                #expect(response.errorCode == item.code, "\(item.name)")
                #expect(!response.text.contains("hint"), "\(item.name)")
                #expect(response.text == Self.productionBodies[item.code], "\(item.name)")
            }
        }
        #expect(!sink.all.contains("signature.hint"))
        #expect(sink.all.contains("rejected signed request"))
    }
}
