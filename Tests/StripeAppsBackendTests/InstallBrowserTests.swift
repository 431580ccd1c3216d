import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StripeApps
import StripeAppsServer
import Testing

/// The whole install flow in a real browser: `/install` → a stand-in marketplace → the signed redirect back to
/// `/install/callback`, with the state cookie carried by the browser → the onboarding deep link.
@Suite(
    .enabled(if: ExternalTool.chromium != nil || isCI, "skipped: chromium is not installed (apt-get install chromium)"))
struct InstallBrowserTests {
    static let secret = "absec_install_browser_test"

    /// Plays Stripe: the marketplace signs the redirect, the Dashboard shows the URL it was sent to.
    final class StandIn: Sendable {
        let apiPort: Int
        /// When set, the marketplace sends the user back through `localhost` instead of `127.0.0.1`: a host the
        /// state cookie was never set for, as when the cookie was cleared or the flow moved to another browser.
        let losesCookie: Bool

        init(apiPort: Int, losesCookie: Bool) {
            self.apiPort = apiPort
            self.losesCookie = losesCookie
        }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.get("marketplace") { request, _ in
                let query = request.uri.queryParameters
                guard let state = query.get("state"), let redirectURI = query.get("redirect_uri"),
                    var components = URLComponents(string: redirectURI)
                else { return Response(status: .badRequest) }
                let payload = try InstallRedirectPayload(state: state, userID: "usr_browser", accountID: "acct_browser")
                let signature = SignatureSigner(keyring: try SigningKeyring(secrets: [InstallBrowserTests.secret]))
                    .signatureHeader(for: payload.bytes).headerValue
                if self.losesCookie { components.host = "localhost" }
                components.queryItems = [
                    .init(name: "user_id", value: "usr_browser"), .init(name: "account_id", value: "acct_browser"),
                    .init(name: "state", value: state), .init(name: "install_signature", value: signature),
                    .init(name: "livemode", value: "false"),
                ]
                let location = (components.string ?? "").replacingOccurrences(of: "+", with: "%2B")
                return Response(status: .found, headers: [.location: location])
            }
            router.get("dashboard/**") { request, _ in
                let shown = HTMLPageEscaping.escape(request.uri.description)
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/html; charset=utf-8"],
                    body: .init(
                        byteBuffer: ByteBuffer(string: "<html><body><pre id=\"landed\">\(shown)</pre></body></html>"))
                )
            }
            return router
        }
    }

    func runFlow(losesCookie: Bool) async throws -> String {
        let chromium = try #require(ExternalTool.chromium, "chromium is not installed")
        let apiPort = try freePort()
        let pagePort = try freePort()
        var configuration = AppConfiguration(
            appID: "com.example.app",
            appSecrets: try SigningKeyring(secrets: [Self.secret]),
            port: apiPort,
            publicURL: "http://127.0.0.1:\(apiPort)"
        )
        configuration.install = InstallConfiguration(
            installLink: "http://127.0.0.1:\(pagePort)/marketplace",
            redirectURI: "http://127.0.0.1:\(apiPort)/install/callback",
            dashboardBaseURL: "http://127.0.0.1:\(pagePort)/dashboard"
        )
        configuration.manifest = AppManifest(
            id: "com.example.app", allowedRedirectURIs: ["http://127.0.0.1:\(apiPort)/install/callback"])
        let (ready, readySignal) = AsyncStream<Void>.makeStream()
        let api = try buildApplication(
            configuration: configuration,
            storage: InMemoryStorage(),
            hooks: ApplicationHooks(onServerRunning: { _ in readySignal.yield() })
        )
        let pages = Application(
            router: StandIn(apiPort: apiPort, losesCookie: losesCookie).router(),
            configuration: .init(address: .hostname("127.0.0.1", port: pagePort)),
            onServerRunning: { _ in readySignal.yield() }
        )
        let group = ServiceGroup(
            services: [api, pages], gracefulShutdownSignals: [], logger: Logger(label: "install-browser"))
        return try await withThrowingTaskGroup(of: String?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var started = 0
            for await _ in ready {
                started += 1
                if started == 2 { break }
            }
            // --dump-dom prints the DOM of the page the navigation (and its redirects) ended on.
            let output = try await runProcessAsync(
                chromium,
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--user-data-dir=\(FileManager.default.temporaryDirectory.path)/chromium-\(UUID().uuidString)",
                    "--dump-dom", "http://127.0.0.1:\(apiPort)/install",
                ]
            )
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return output.standardOutput
        }
    }

    @Test func theWholeFlowEndsOnTheOnboardingDeepLink() async throws {
        let dom = try await runFlow(losesCookie: false)
        let start = try #require(
            dom.range(of: "<pre id=\"landed\">"), "the flow did not reach the Dashboard: \(dom.prefix(600))")
        let landed = String(dom[start.upperBound...].prefix { $0 != "<" }).replacingOccurrences(of: "&amp;", with: "&")
        let decoded = landed.removingPercentEncoding ?? landed
        #expect(decoded == "/dashboard/acct_browser/test/dashboard?apps[com.example.app][drawer]=onboarding")
    }

    @Test func theSameFlowWithoutTheCookieFails() async throws {
        let dom = try await runFlow(losesCookie: true)
        #expect(dom.contains("data-code=\"browser_mismatch\""), "expected the mismatch page, got: \(dom.prefix(600))")
        #expect(!dom.contains("id=\"landed\""))
    }
}

/// Escapes text for the stand-in page.
enum HTMLPageEscaping {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}

/// A port that was free a moment ago on 127.0.0.1 (the kernel picks it; the socket is closed again).
func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).wait()
    defer { try? channel.close().wait() }
    return channel.localAddress?.port ?? 0
}
