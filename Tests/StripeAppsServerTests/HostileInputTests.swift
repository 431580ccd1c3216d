import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Testing

/// Thousands of generated malformed and hostile requests across every route: each gets a 4xx (or a 2xx when it
/// happens to be valid), never a 5xx or a crash, and the server still answers `/healthz` afterwards. The inputs
/// come from a seeded generator, so a failure names an input that can be replayed.
@Suite struct HostileInputTests {
    /// SplitMix64: deterministic, so every run sends the same inputs.
    struct Generator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func pick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }
    }

    struct Input: CustomStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var headers: HTTPFields
        var body: [UInt8]

        var description: String {
            "\(method) \(uri.prefix(120)) headers=\(headers.map { "\($0.name)=\($0.value.prefix(40))" }) body=\(body.count)B"
        }
    }

    static let paths = [
        "/", "/api/whoami", "/api/settings", "/api/../api/whoami", "/api/settings/", "/api/%2e%2e/settings",
        "/install", "/install/callback", "/webhooks/test", "/webhooks/live", "/webhooks/test/", "/healthz", "/readyz",
        "/api/whoami%00", "/%ff%fe", "/api/" + String(repeating: "a", count: 4000),
        "/install/callback/../../etc/passwd", "/install/tickets", "/install/links", "/install/tickets/",
        "/api/whoami?x=1", "//api//whoami", "/api/SETTINGS", "/webhooks/%74est",
    ]

    static let signatureHeaders = [
        "", "t=", "v1=", "t=abc,v1=zz", "t=1700000000", "t=1700000000,v1=" + String(repeating: "0", count: 64),
        "t=1700000000,v1=" + String(repeating: "g", count: 64), "t=-1,v1=00", "t=99999999999999999999999,v1=00",
        "t=1700000000," + (0..<200).map { "v1=\(String(format: "%064d", $0))" }.joined(separator: ","),
        String(repeating: "t=1,", count: 2000), "t=1700000000,v0=abc,v2=def", " t = 1700000000 , v1 = 00 ",
        "t=1700000000,v1=" + String(repeating: "A", count: 64), "t=1700000000;v1=00", "\u{7f}",
    ]

    static let identityValues = [
        "", "usr_1", "acct_1", "acct_", "usr_" + String(repeating: "x", count: 300), "acct_1\u{0}", "acct_1,acct_2",
        "<script>", "' OR 1=1 --", "acct_é", "%61cct_1",
    ]

    static let bodies: [[UInt8]] = [
        [], Array("{".utf8), Array("null".utf8), Array("[]".utf8), Array("\"x\"".utf8), [0xFF, 0xFE, 0x00],
        Array(String(repeating: "[", count: 5000).utf8), Array(#"{"user_id":1,"account_id":2}"#.utf8),
        Array(#"{"user_id":"usr_1","account_id":"acct_1","user_id":"usr_2"}"#.utf8),
        Array(#"{"id":"evt_1","object":"event","type":"x","created":"soon","data":null}"#.utf8),
        Array(
            #"{"id":"evt_1","object":"event","type":"account.application.authorized","created":1700000000,"livemode":true,"account":"acct_1","data":{"object":{}}}"#
                .utf8),
        Array(repeating: 0x41, count: 70_000), Array("\u{0}\u{1}\u{2}".utf8), Array(#"{"a":"\ud800"}"#.utf8),
        Array(#"{"a":1e999999}"#.utf8), Array("user_id=usr_1&account_id=acct_1".utf8),
        Array(#"{"app_user":"\u0000"}"#.utf8), Array(#"{"app_user":["u"],"mode":{}}"#.utf8),
        Array(#"{"app_user":"u","mode":"live"}"#.utf8),
        Array(#"{"link_code":"\#(String(repeating: "a", count: 64))","app_user":"u"}"#.utf8),
        Array(#"{"link_code":null,"app_user":"<script>"}"#.utf8),
    ]

    static let queries = [
        "", "?code=ac_x&state=s", "?code=" + String(repeating: "a", count: 3000), "?state=%zz", "?error=access_denied",
        "?error=x&state=abc", "?user_id=usr_1&account_id=acct_1&state=s&install_signature=t%3D1%2Cv1%3D00",
        "?ref=%00%01", "?ref=" + String(repeating: "%C3%A9", count: 300), "?mode=production", "?mode=live&mode=test",
        "?livemode=maybe&user_id=usr_1&account_id=acct_1&state=s&install_signature=x", "?&&&==&",
        "?state=" + String(repeating: "s", count: 5000), "?ticket=", "?ticket=" + String(repeating: "f", count: 64),
        "?ticket=%00", "?ticket=" + String(repeating: "f", count: 64) + "&mode=test&ref=x",
    ]

    static func inputs(count: Int, seed: UInt64) throws -> [Input] {
        var random = Generator(state: seed)
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch, .options, .head]
        var inputs: [Input] = []
        for index in 0..<count {
            var headers: HTTPFields = [:]
            if random.next() % 3 != 0 {
                headers[.stripeSignature] = random.pick(signatureHeaders)
            }
            if random.next() % 4 == 0 {
                headers.append(HTTPField(name: .stripeSignature, value: random.pick(signatureHeaders)))
            }
            if random.next() % 3 == 0 { headers[.stripeUserID] = random.pick(identityValues) }
            if random.next() % 3 == 0 { headers[.stripeAccountID] = random.pick(identityValues) }
            if random.next() % 4 == 0 { headers[.stripeMode] = random.pick(["live", "test", "", "LIVE", "prod"]) }
            if random.next() % 4 == 0 {
                headers[.contentType] = random.pick([
                    "application/json", "text/plain", "", "application/json; charset=latin1",
                ])
            }
            if random.next() % 5 == 0 { headers[.origin] = random.pick(["null", "https://evil.example", ""]) }
            if random.next() % 5 == 0 { headers[.cookie] = random.pick(["stripe_apps_install=x", "a=b; ;;=", ""]) }
            if random.next() % 3 == 0 {
                headers[.authorization] = random.pick([
                    "Bearer " + InstallTicketTests.token, "Bearer", "Basic eDp5",
                    "Bearer " + InstallTicketTests.token + " ",
                    "bearer " + InstallTicketTests.token, "",
                ])
            }
            var body = random.pick(bodies)
            // Every fourth input is correctly signed, with hostile content: it reaches what runs after verification.
            if index % 4 == 0, !body.isEmpty {
                if random.next() % 2 == 0 {
                    headers[.stripeSignature] = signer.post(rawBody: body).headers[.stripeSignature]
                } else {
                    let header = SignatureSigner(keyring: try SigningKeyring(secrets: [WebhookRouteTests.testSecret]))
                        .signatureHeader(for: body, timestamp: 1_700_000_000)
                    headers[.stripeSignature] = header.headerValue
                }
            }
            if index % 7 == 0 {
                // A signed settings write of hostile values for an installed tenant.
                let extra: [PayloadField] = [
                    PayloadField(
                        "version", random.pick([.number(0), .number(-1), .string("x"), .null, .number(1e300)])),
                    PayloadField(
                        random.pick(["theme", "bad key", "", String(repeating: "k", count: 200), "mode", "unset"]),
                        random.pick([.string(""), .object([]), .array([.null]), .number(.infinity), .bool(true)])),
                ]
                // A key the payload cannot hold twice (mode, version) leaves the input as it was.
                if let signed = try? signer.post(userID: "usr_1", accountID: "acct_1", mode: .test, extra: extra) {
                    headers = signed.headers
                    body = Array(signed.body?.readableBytesView ?? ByteBuffer().readableBytesView)
                }
            }
            let path = random.pick(paths)
            let query =
                path.hasPrefix("/install") ? random.pick(queries) : (random.next() % 6 == 0 ? random.pick(queries) : "")
            inputs.append(Input(method: random.pick(methods), uri: path + query, headers: headers, body: body))
        }
        return inputs
    }

    @Test func twoThousandFiveHundredHostileRequestsGetNo5xx() async throws {
        var configuration = try InstallRouteTests.configuration()
        configuration.webhookSecretsTest = try SigningKeyring(secrets: [WebhookRouteTests.testSecret])
        configuration.webhookSecretsLive = try SigningKeyring(secrets: [WebhookRouteTests.liveSecret])
        configuration.maximumBodyBytes = 64 * 1024
        configuration.appServerToken = InstallTicketTests.token
        configuration.install.confirmURL = InstallTicketTests.confirmURL
        // Thousands of requests from one test client: the install rate limit would answer most of them 429.
        configuration.installRateLimitPerMinute = 1_000_000
        let store = InMemoryStorage()
        try await install(Tenant(accountID: "acct_1", mode: .test), in: store)
        let inputs = try Self.inputs(count: 2500, seed: 0x5EED)
        try await withTestApp(configuration: configuration, storage: store) { client in
            var failures: [String] = []
            for input in inputs {
                let response = try await client.execute(
                    uri: input.uri, method: input.method, headers: input.headers,
                    body: input.body.isEmpty ? nil : ByteBuffer(bytes: input.body))
                if response.status.code >= 500 { failures.append("\(response.status.code) for \(input)") }
            }
            #expect(failures.isEmpty, "\(failures.count) 5xx: \(failures.prefix(5))")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    /// Over a real socket: garbage, cut and oversized requests get a 4xx or a closed connection, and the server
    /// goes on answering.
    @Test func malformedHTTPOnTheWireNeverBreaksTheServer() async throws {
        var configuration = try WebhookRouteTests.configuration()
        configuration.httpHeaderTimeoutSeconds = 2
        configuration.httpBodyTimeoutSeconds = 2
        let wire: [String] = [
            "\u{0}\u{1}\u{2}\u{3}\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
            "POST /webhooks/test HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            "POST /webhooks/test HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789",
            "POST /webhooks/test HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "POST /api/whoami HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n{",
            "GET /healthz HTTP/1.1\r\nHost: a\r\n"
                + String(repeating: "X-Pad: \(String(repeating: "p", count: 100))\r\n", count: 2000) + "\r\n",
            "POST /api/settings HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{\"cut",  // then closed by the client
            "GET /%%%% HTTP/1.1\r\nHost: a\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: \u{7f}\r\n\r\n",
        ]
        try await ConnectionLimitTests.withServer(configuration) { port in
            let statuses = try await RawConnection.blocking {
                try wire.map { request -> String in
                    let connection = try RawConnection(port: port)
                    defer { connection.close() }
                    try? connection.send(request)
                    if request.hasSuffix("{\"cut") { return "cut" }
                    return (try? connection.readResponseHead()).map { String($0.prefix(12)) } ?? "closed"
                }
            }
            for (request, status) in zip(wire, statuses) {
                let code = Int(status.dropFirst(9).prefix(3)) ?? 0
                #expect(
                    status == "closed" || status == "cut" || (400..<500).contains(code),
                    "\(status) for \(request.prefix(60).debugDescription)")
            }
            let health = try await RawConnection.blocking {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                try connection.send(ConnectionLimitTests.healthRequest)
                return try connection.readResponseHead()
            }
            #expect(health.hasPrefix("HTTP/1.1 200"))
        }
    }
}
