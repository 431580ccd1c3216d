import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StripeApps
import StripeAppsServer
import Testing

@Suite struct WebhookRouteTests {
    static let liveSecret = "whsec_live_endpoint_secret"
    static let testSecret = "whsec_test_endpoint_secret"

    static func configuration() throws -> AppConfiguration {
        var configuration = try AppConfiguration.testing(maximumBodyBytes: 64 * 1024)
        configuration.webhookSecretsLive = try SigningKeyring(secrets: [liveSecret])
        configuration.webhookSecretsTest = try SigningKeyring(secrets: [testSecret, "whsec_test_rotated"])
        return configuration
    }

    static func event(id: String = "evt_1", type: String = "account.application.authorized", live: Bool = false)
        -> String
    {
        #"{"id":"\#(id)","object":"event","api_version":"2025-02-24.acacia","created":1700000000,"livemode":\#(live),"type":"\#(type)","account":"acct_1","pending_webhooks":2,"request":null,"data":{"object":{"id":"ca_1","object":"application","name":"Example"},"unknown_field":{"nested":[1,2,3]}}}"#
    }

    static func signed(_ body: String, secret: String = testSecret, timestamp: Int64 = 1_700_000_000) throws
        -> HTTPFields
    {
        let header = SignatureSigner(keyring: try SigningKeyring(secrets: [secret])).signatureHeader(
            for: Array(body.utf8), timestamp: timestamp)
        return [.stripeSignature: header.headerValue, .contentType: "application/json"]
    }

    func deliver(_ client: some TestClientProtocol, _ path: String, _ body: String, headers: HTTPFields) async throws
        -> TestResponse
    {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func aVerifiedEventIsStoredOnceAndRoutedByLivemode() async throws {
        let store = InMemoryStorage()
        try await withTestApp(configuration: Self.configuration(), storage: store) { client in
            let body = Self.event()
            let first = try await deliver(client, "/webhooks/test", body, headers: Self.signed(body))
            #expect(first.status == .ok)
            #expect(first.text == #"{"received":true,"duplicate":false}"#)
            #expect(first.headers[.accessControlAllowOrigin] == nil)
            // The same test event also reaches the live endpoint (app installed in both modes): stored once.
            let again = try await deliver(
                client, "/webhooks/live", body, headers: Self.signed(body, secret: Self.liveSecret))
            #expect(again.status == .ok)
            #expect(again.text == #"{"received":true,"duplicate":true}"#)
            let stored = try await store.inbox.events(status: nil, limit: 10)
            #expect(stored.map(\.id) == ["evt_1"])
            #expect(stored.first?.isLiveMode == false)
            #expect(stored.first?.payload == body)
            // A rotated secret works too.
            let rotated = Self.event(id: "evt_2")
            #expect(
                try await deliver(
                    client, "/webhooks/test", rotated, headers: Self.signed(rotated, secret: "whsec_test_rotated")
                ).status == .ok)
        }
    }

    @Test func typedDecodingIgnoresUnknownTypesAndFields() throws {
        let event = try AppEvent(json: Array(Self.event(type: "brand_new.event_type").utf8))
        #expect(event.type == "brand_new.event_type")
        #expect(event.tenant == Tenant(accountID: "acct_1", mode: .test))
        #expect(event.application == ApplicationObject(id: "ca_1", name: "Example"))
        #expect(event.created == 1_700_000_000)
    }

    @Test func unconfiguredEndpointOrUnavailableStorageIs503SoStripeRetries() async throws {
        var configuration = try Self.configuration()
        configuration.webhookSecretsLive = nil
        try await withTestApp(configuration: configuration) { client in
            let body = Self.event(live: true)
            let response = try await deliver(
                client, "/webhooks/live", body, headers: Self.signed(body, secret: Self.liveSecret))
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "webhook_not_configured")
        }
        try await withTestApp(configuration: Self.configuration(), storage: UnavailableStorage()) { client in
            let body = Self.event()
            let response = try await deliver(client, "/webhooks/test", body, headers: Self.signed(body))
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "storage_unavailable")
        }
    }

    /// At least 200 malformed deliveries: each gets a clear 4xx, nothing is stored, and the server keeps serving.
    @Test func malformedDeliveriesAre4xxAndStoreNothing() async throws {
        let store = InMemoryStorage()
        let valid = Self.event()
        var cases: [(label: String, path: String, body: String, headers: HTTPFields)] = []
        // Bad headers.
        let goodHeader = try #require(try Self.signed(valid)[.stripeSignature])
        for header in [
            "", "t=", "v1=", "t=1700000000", "garbage", "t=abc,v1=00", goodHeader.uppercased(), goodHeader + ",t=1",
            goodHeader.replacingOccurrences(of: ",", with: ", "), "t=1700000000,v0=" + String(goodHeader.suffix(64)),
            String(goodHeader.dropLast()), goodHeader.replacingOccurrences(of: "t=", with: "t=0x"),
        ] {
            cases.append(("header \(header.prefix(12))", "/webhooks/test", valid, [.stripeSignature: header]))
        }
        cases.append(("no header", "/webhooks/test", valid, [:]))
        // Truncated JSON, correctly signed: the signature passes, decoding fails.
        for cut in stride(from: 1, to: valid.count - 1, by: max(1, valid.count / 60)) {
            let body = String(valid.prefix(cut))
            cases.append(("truncated \(cut)", "/webhooks/test", body, try Self.signed(body)))
        }
        // Invalid JSON and non-events, correctly signed.
        for body in [
            "", "null", "[]", "{}", "\"evt\"", "{\"id\":", "{'id':'evt_1'}", "{\"id\":\"evt_1\",}", "\u{FEFF}{}",
            #"{"id":"evt_1","type":"x","livemode":false,"created":1,"object":"customer"}"#,
            String(repeating: "[", count: 100),
        ] {
            cases.append(("invalid \(body.prefix(10))", "/webhooks/test", body, try Self.signed(body)))
        }
        // Missing or wrong id, type, livemode, created.
        for (key, replacement) in [
            ("\"id\":\"evt_1\",", ""), ("\"id\":\"evt_1\"", "\"id\":\"cus_1\""),
            ("\"type\":\"account.application.authorized\",", ""),
            ("\"type\":\"account.application.authorized\"", "\"type\":\"\""), ("\"livemode\":false,", ""),
            ("\"livemode\":false", "\"livemode\":\"false\""),
            ("\"created\":1700000000,", ""), ("\"created\":1700000000", "\"created\":-5"),
            ("\"created\":1700000000", "\"created\":1.5"),
        ] {
            let body = valid.replacingOccurrences(of: key, with: replacement)
            for secretRound in 0..<3 {
                cases.append(
                    (
                        "field \(key.prefix(12)) \(secretRound)", "/webhooks/test",
                        body + String(repeating: " ", count: secretRound),
                        try Self.signed(body + String(repeating: " ", count: secretRound))
                    ))
            }
        }
        // Wrong secret: the app secret, the other endpoint's secret, random ones.
        for (index, secret) in ([appSecret, Self.liveSecret] + (0..<22).map { "whsec_random_\($0)" }).enumerated() {
            cases.append(("wrong secret \(index)", "/webhooks/test", valid, try Self.signed(valid, secret: secret)))
        }
        // Wrong mode: live events on the test endpoint.
        for index in 0..<20 {
            let body = Self.event(id: "evt_live_\(index)", live: true)
            cases.append(("wrong mode \(index)", "/webhooks/test", body, try Self.signed(body)))
        }
        // Stale and future timestamps.
        for offset in [301, 302, 400, 600, 3600, 86_400, 1_000_000, 1_700_000_000 - 1].flatMap({
            [Int64($0), -Int64($0)]
        }) + Array(repeating: Int64(301), count: 20) {
            cases.append(
                ("time \(offset)", "/webhooks/test", valid, try Self.signed(valid, timestamp: 1_700_000_000 - offset)))
        }
        // Oversized bodies, signed or not.
        for size in [64 * 1024 + 1, 100_000, 500_000, 2_000_000] {
            let body = "{\"pad\":\"" + String(repeating: "x", count: size) + "\"}"
            cases.append(("oversized \(size)", "/webhooks/test", body, try Self.signed(body)))
            cases.append(("oversized unsigned \(size)", "/webhooks/live", body, [:]))
        }
        #expect(cases.count >= 200)
        let deliveries = cases

        try await withTestApp(configuration: Self.configuration(), storage: store) { client in
            for item in deliveries {
                let response = try await deliver(client, item.path, item.body, headers: item.headers)
                #expect((400..<500).contains(Int(response.status.code)), "\(item.label): \(response.status)")
                #expect(response.errorCode != nil, "\(item.label): no error code")
                #expect(!response.text.contains("whsec_"), "\(item.label)")
            }
            #expect(try await store.inbox.events(status: nil, limit: 1000).isEmpty)
            // Still up and working.
            #expect(try await deliver(client, "/webhooks/test", valid, headers: Self.signed(valid)).status == .ok)
        }
    }
}
