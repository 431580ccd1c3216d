import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Testing

/// A real browser calling the backend from a sandboxed iframe (origin `null`), as a Stripe UI extension does.
@Suite(
    .enabled(if: ExternalTool.chromium != nil || isCI, "skipped: chromium is not installed (apt-get install chromium)"))
struct BrowserTests {
    static let secret = "absec_browser_test_secret"

    /// The page the browser loads: it creates a sandboxed iframe whose script calls the API and posts the results
    /// back to the parent, which sends them to the page server's `/report` (same origin as the page).
    static func page(apiBase: String, post: SignedUIRequest, get: SignedUIRequest) -> String {
        func literal(_ text: String) -> String {
            PayloadValue.string(text).jsonString.replacingOccurrences(of: "</", with: "<\\/")
        }
        let postBody = String(buffer: post.body ?? .init())
        let frame = """
            <script>
            const api = \(literal(apiBase));
            async function call(name, path, init) {
              try {
                const response = await fetch(api + path, init);
                return {status: response.status, body: await response.text()};
              } catch (error) {
                return {error: String(error)};
              }
            }
            (async () => {
              const results = {origin: self.origin};
              results.post = await call("post", "/api/whoami", {method: "POST", headers: {
                "Content-Type": "application/json", "Stripe-Signature": \(literal(post.headers[.stripeSignature] ?? ""))},
                body: \(literal(postBody))});
              results.get = await call("get", "/api/settings", {headers: {
                "Stripe-Signature": \(literal(get.headers[.stripeSignature] ?? "")),
                "Stripe-User-Id": "usr_browser", "Stripe-Account-Id": "acct_browser", "Stripe-Mode": "test"}});
              results.health = await call("health", "/healthz", {});
              parent.postMessage(JSON.stringify(results), "*");
            })();
            </script>
            """
        return """
            <!doctype html><html><body><pre id="results">pending</pre>
            <script>
            window.addEventListener("message", (event) => {
              document.getElementById("results").textContent = event.data;
              fetch("/report", {method: "POST", body: event.data});
            });
            const frame = document.createElement("iframe");
            frame.setAttribute("sandbox", "allow-scripts");
            frame.srcdoc = \(literal(frame));
            document.body.appendChild(frame);
            </script></body></html>
            """
    }

    @Test func sandboxedIframeCallsSignedRoutesAndCannotReadOtherRoutes() async throws {
        let chromium = try #require(ExternalTool.chromium, "chromium is not installed")
        let (ports, portSignal) = AsyncStream<(String, Int)>.makeStream()
        let (reports, reportSignal) = AsyncStream<String>.makeStream()
        let configuration = AppConfiguration(appSecrets: try SigningKeyring(secrets: [Self.secret]), port: 0)
        // The settings route answers only for a tenant with the app installed.
        let storage = InMemoryStorage()
        let now = Date()
        _ = try await storage.installations.apply(
            InstallationChange(
                tenant: Tenant(accountID: "acct_browser", mode: .test), action: .activate, source: .installCallback,
                occurredAt: now, recordedAt: now))
        let api = try buildApplication(
            configuration: configuration,
            storage: storage,
            hooks: ApplicationHooks(onServerRunning: { portSignal.yield(("api", $0)) })
        )
        let signer = try UIExtensionSigner(secrets: [Self.secret])
        let post = try signer.post(userID: "usr_browser", accountID: "acct_browser", mode: .test)
        let get = try signer.get(userID: "usr_browser", accountID: "acct_browser", mode: .test)
        let pageHolder = PageHolder()
        let pageRouter = Router()
        pageRouter.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: .init(string: pageHolder.html))
            )
        }
        pageRouter.post("/report") { request, _ in
            reportSignal.yield(String(buffer: try await request.body.collect(upTo: 1 << 20)))
            return Response(status: .noContent)
        }
        let pageServer = Application(
            router: pageRouter,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portSignal.yield(("page", $0.localAddress?.port ?? 0)) }
        )
        let group = ServiceGroup(
            services: [api, pageServer],
            gracefulShutdownSignals: [],
            logger: Logger(label: "browser-test")
        )
        let report = try await withThrowingTaskGroup(of: String?.self) { tasks in
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
            pageHolder.html = Self.page(apiBase: "http://127.0.0.1:\(apiPort)", post: post, get: get)

            // The browser stays open until the page has reported; a deadline bounds the wait.
            let browser = Process()
            browser.executableURL = chromium
            browser.arguments = [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(FileManager.default.temporaryDirectory.path)/chromium-\(UUID().uuidString)",
                "http://127.0.0.1:\(pagePort)/",
            ]
            browser.standardOutput = FileHandle.nullDevice
            browser.standardError = FileHandle.nullDevice
            try browser.run()
            defer {
                // SIGKILL: an ignored SIGTERM is inherited, and the page's work is done either way.
                kill(browser.processIdentifier, SIGKILL)
                browser.waitUntilExit()
            }
            let received = try await firstValue(of: reports, within: .seconds(90))
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return received
        }
        let text = try #require(report, "the page never reported within 90 s")
        let results = try PayloadValue.parse(text)
        #expect(results["origin"] == .string("null"), "the iframe must be an opaque (null) origin")
        // The signed POST and GET succeed and the script can read their JSON.
        #expect(results["post"]?["status"] == .number(200))
        let whoami = try PayloadValue.parse(try #require(results["post"]?["body"]?.stringValue))
        #expect(whoami["account_id"] == .string("acct_browser"))
        #expect(whoami["mode"] == .string("test"))
        #expect(results["get"]?["status"] == .number(200))
        let settings = try PayloadValue.parse(try #require(results["get"]?["body"]?.stringValue))
        #expect(settings["version"] == .number(0))
        // A route without CORS headers is blocked by the browser: the script gets no response.
        #expect(results["health"]?["status"] == nil)
        #expect(results["health"]?["error"]?.stringValue?.contains("Failed to fetch") == true)
    }
}

/// The first element of `stream`, or `nil` when none arrives within `limit`.
func firstValue<T: Sendable>(of stream: AsyncStream<T>, within limit: Duration) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await stream.first { _ in true } }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// The page HTML, set once the API port is known.
final class PageHolder: @unchecked Sendable {
    // Written once before the browser starts and only read afterwards, from the page server's handler.
    private let lock = NSLock()
    private var value = ""
    var html: String {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
