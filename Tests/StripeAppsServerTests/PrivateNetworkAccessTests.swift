import Foundation
import StripeApps
import StripeAppsServer
import Testing

/// The older Private Network Access preflight (`Access-Control-Request-Private-Network: true`), over a real socket:
/// answered with `Access-Control-Allow-Private-Network: true` on the UI routes' preflights when the backend listens
/// on a loopback or private address, and nowhere else.
@Suite struct PrivateNetworkAccessTests {
    static let allow = "access-control-allow-private-network"

    /// A preflight of `path` as Chrome sent it before Local Network Access, from the sandboxed iframe's `null` origin.
    static func preflight(_ path: String, asksPrivateNetwork: Bool = true) -> String {
        "OPTIONS \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: null\r\nAccess-Control-Request-Method: POST\r\n"
            + "Access-Control-Request-Headers: content-type,stripe-signature\r\n"
            + (asksPrivateNetwork ? "Access-Control-Request-Private-Network: true\r\n" : "") + "\r\n"
    }

    /// The response heads of `requests`, sent one after the other on one connection to the server on `port`.
    static func heads(_ requests: [String], port: Int) async throws -> [String] {
        try await RawConnection.blocking {
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            return try requests.map { request in
                try connection.send(request)
                return try connection.readResponseHead().lowercased()
            }
        }
    }

    static func configuration(host: String) throws -> AppConfiguration {
        var configuration = try AppConfiguration.testing()
        configuration.host = host
        configuration.admin = AdminConfiguration(token: "pna-admin-token-0123456789abcdef0123")
        return configuration
    }

    @Test func aUIPreflightAskingForThePrivateNetworkIsAllowedOnLoopback() async throws {
        try await ConnectionLimitTests.withServer(try Self.configuration(host: "127.0.0.1")) { port in
            let heads = try await Self.heads(
                [
                    Self.preflight("/api/whoami"), Self.preflight("/api/settings"),
                    Self.preflight("/api/whoami", asksPrivateNetwork: false),
                ], port: port)
            for head in heads.prefix(2) {
                #expect(head.hasPrefix("http/1.1 204"), "\(head)")
                #expect(head.contains("\r\naccess-control-allow-origin: *"), "\(head)")
                #expect(head.contains("\r\n\(Self.allow): true"), "\(head)")
            }
            // A preflight that does not ask gets the usual CORS answer only.
            #expect(heads[2].hasPrefix("http/1.1 204"), "\(heads[2])")
            #expect(heads[2].contains("\r\naccess-control-allow-origin: *"), "\(heads[2])")
            #expect(!heads[2].contains(Self.allow), "\(heads[2])")
        }
    }

    @Test func noOtherRouteOrRequestGetsIt() async throws {
        try await ConnectionLimitTests.withServer(try Self.configuration(host: "127.0.0.1")) { port in
            let others = [
                "/webhooks/live", "/webhooks/test", "/install", "/install/callback", "/admin", "/admin/login",
                "/metrics", "/healthz", "/readyz", "/apix", "/",
            ]
            var requests = others.map { Self.preflight($0) }
            // Not a preflight: a signed call (refused here, unsigned) carrying the request header.
            requests.append(
                "POST /api/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: null\r\n"
                    + "Access-Control-Request-Private-Network: true\r\nContent-Length: 2\r\n\r\n{}")
            let heads = try await Self.heads(requests, port: port)
            for (path, head) in zip(others, heads) {
                #expect(!head.contains(Self.allow), "\(path): \(head)")
                #expect(!head.contains("access-control-allow-origin"), "\(path): \(head)")
            }
            let call = try #require(heads.last)
            #expect(call.hasPrefix("http/1.1 401"), "\(call)")
            #expect(call.contains("\r\naccess-control-allow-origin: *"), "\(call)")
            #expect(!call.contains(Self.allow), "\(call)")
        }
    }

    @Test func aBackendListeningOnEveryInterfaceDoesNotAnswerIt() async throws {
        // 0.0.0.0 is reachable on public interfaces too: the browser's request comes in on loopback here, but the
        // answer follows the address the backend listens on.
        try await ConnectionLimitTests.withServer(try Self.configuration(host: "0.0.0.0")) { port in
            let head = try #require(try await Self.heads([Self.preflight("/api/whoami")], port: port).first)
            #expect(head.hasPrefix("http/1.1 204"), "\(head)")
            #expect(head.contains("\r\naccess-control-allow-origin: *"), "\(head)")
            #expect(!head.contains(Self.allow), "\(head)")
        }
    }

    @Test func developmentModeListensOnLoopbackAndAnswersIt() async throws {
        // No app secret: development mode binds 127.0.0.1 whatever HOST says.
        var configuration = AppConfiguration(port: 0, databaseURL: "sqlite::memory:")
        configuration.host = "0.0.0.0"
        #expect(configuration.isDevelopmentMode)
        try await ConnectionLimitTests.withServer(configuration) { port in
            let head = try #require(try await Self.heads([Self.preflight("/api/whoami")], port: port).first)
            #expect(head.hasPrefix("http/1.1 204"), "\(head)")
            #expect(head.contains("\r\n\(Self.allow): true"), "\(head)")
        }
    }
}
