import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Testing

/// Local development from the real Dashboard, in headless Chromium through Selenium
/// (`Tests/Browser/local_network_flow.py`): a page the browser counts as public, like the Dashboard, whose sandboxed
/// iframe (origin `null`) calls the backend on 127.0.0.1. Without Local Network Access permission the browser sends
/// nothing at all; once it is granted, the backend answers the CORS preflights and the signed calls succeed.
@Suite(
    .enabled(
        if: (ExternalTool.chromium != nil && ExternalTool.chromedriver != nil && ExternalTool.seleniumPython != nil)
            || isCI,
        "skipped: needs chromium, chromium-driver and Selenium in .venv (see Tests/CrossCheck/requirements.txt)"))
struct LocalNetworkBrowserTests {
    static let secret = "absec_local_network_test_secret"

    /// How many CORS preflights (`OPTIONS`) the backend answered with 204, from its metrics.
    static func answeredPreflights(_ metrics: AppMetrics) -> Double {
        String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n")
            .filter {
                $0.hasPrefix("http_server_request_duration_seconds_count{")
                    && $0.contains(#"http_request_method="OPTIONS""#)
                    && $0.contains(#"http_response_status_code="204""#)
            }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    @Test func aPublicPageReachesTheLocalBackendOnceLocalNetworkAccessIsAllowed() async throws {
        let chromium = try #require(ExternalTool.chromium, "chromium is not installed")
        let chromedriver = try #require(ExternalTool.chromedriver, "chromedriver is not installed (chromium-driver)")
        let python = try #require(
            ExternalTool.seleniumPython, "Selenium is missing: pip install -r Tests/CrossCheck/requirements.txt")
        let (ports, portSignal) = AsyncStream<(String, Int)>.makeStream()
        let configuration = AppConfiguration(appSecrets: try SigningKeyring(secrets: [Self.secret]), port: 0)
        #expect(configuration.bindHost == "127.0.0.1")
        let storage = InMemoryStorage()
        let now = Date()
        _ = try await storage.installations.apply(
            InstallationChange(
                tenant: Tenant(accountID: "acct_browser", mode: .test), action: .activate, source: .installCallback,
                occurredAt: now, recordedAt: now))
        let metrics = AppMetrics()
        let api = try buildApplication(
            configuration: configuration, storage: storage,
            hooks: ApplicationHooks(onServerRunning: { portSignal.yield(("api", $0)) }, metrics: metrics))
        let signer = try UIExtensionSigner(secrets: [Self.secret])
        // Both calls need a preflight: JSON and Stripe-Signature, then the Stripe-* headers of a GET.
        let post = try signer.post(userID: "usr_browser", accountID: "acct_browser", mode: .test)
        let get = try signer.get(userID: "usr_browser", accountID: "acct_browser", mode: .test)
        let pageHolder = PageHolder()
        let pageRouter = Router()
        pageRouter.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: .init(string: pageHolder.html)))
        }
        pageRouter.post("/report") { _, _ in Response(status: .noContent) }
        let pageServer = Application(
            router: pageRouter, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portSignal.yield(("page", $0.localAddress?.port ?? 0)) })
        let group = ServiceGroup(
            services: [api, pageServer], gracefulShutdownSignals: [], logger: Logger(label: "local-network-test"))
        let output = try await withThrowingTaskGroup(of: ProcessOutput?.self, returning: ProcessOutput?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var found: [String: Int] = [:]
            for await (name, port) in ports {
                found[name] = port
                if found.count == 2 { break }
            }
            let apiPort = try #require(found["api"])
            let pagePort = try #require(found["page"])
            pageHolder.html = BrowserTests.page(apiBase: "http://127.0.0.1:\(apiPort)", post: post, get: get)
            let output = try await runProcessAsync(
                python,
                [
                    packageRoot.appendingPathComponent("Tests/Browser/local_network_flow.py").path,
                    "http://127.0.0.1:\(pagePort)/", "\(pagePort)",
                ],
                environment: ["CHROMIUM": chromium.path, "CHROMEDRIVER": chromedriver.path], timeout: .seconds(240))
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return output
        }
        let text = try #require(output?.standardOutput.split(separator: "\n").last.map(String.init))
        let results = try PayloadValue.parse(text)
        #expect(results["error"] == nil, "the flow stopped: \(text)\n\(output?.standardError.suffix(2000) ?? "")")
        let denied = try #require(results["denied"])
        let granted = try #require(results["granted"])
        #expect(denied["origin"] == .string("null") && granted["origin"] == .string("null"))
        // Not allowed: the browser blocks the calls before they leave, preflights included.
        #expect(denied["post"]?["error"]?.stringValue?.contains("Failed to fetch") == true, "\(denied)")
        #expect(denied["get"]?["error"]?.stringValue?.contains("Failed to fetch") == true, "\(denied)")
        // Allowed: the preflights are answered and the signed calls succeed and are readable.
        #expect(granted["post"]?["status"] == .number(200), "\(granted)")
        let whoami = try PayloadValue.parse(try #require(granted["post"]?["body"]?.stringValue))
        #expect(whoami["account_id"] == .string("acct_browser"))
        #expect(granted["get"]?["status"] == .number(200), "\(granted)")
        // Two preflights, and only from the allowed run: the denied one never reached the backend.
        #expect(Self.answeredPreflights(metrics) == 2)
    }
}
