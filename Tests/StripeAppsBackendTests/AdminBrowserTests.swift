import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StripeApps
import StripeAppsServer
import Testing

/// The admin page in a real headless Chromium, driven by Selenium (`Tests/Browser/admin_flow.py`): log in
/// through the form, find a seeded dead event, replay it, see it succeed, block the tenant from its page, log out;
/// the same replay without a session and with a read-only session is refused. Screenshots of each step are kept in
/// `$TEST_ARTIFACTS_DIR/admin` (default `.build/test-artifacts/admin`).
@Suite(
    .enabled(
        if: (ExternalTool.chromium != nil && ExternalTool.chromedriver != nil && ExternalTool.seleniumPython != nil)
            || isCI,
        "skipped: needs chromium, chromium-driver and Selenium in .venv (see Tests/CrossCheck/requirements.txt)"))
struct AdminBrowserTests {
    static let token = "browser-admin-token-0123456789abcdef0123"
    static let readOnlyToken = "browser-readonly-token-0123456789abcdef"

    /// Where the screenshots go.
    static var artifacts: URL {
        if let directory = ProcessInfo.processInfo.environment["TEST_ARTIFACTS_DIR"], !directory.isEmpty {
            return URL(fileURLWithPath: directory).appendingPathComponent("admin")
        }
        return packageRoot.appendingPathComponent(".build/test-artifacts/admin")
    }

    static func dead(_ id: String) -> InboxEvent {
        InboxEvent(
            id: id, type: "customer.created", isLiveMode: false, accountID: "acct_browser", created: 1_700_000_000,
            receivedAt: Date(), status: .dead, attempts: 5,
            payload: """
                {"id":"\(id)","object":"event","type":"customer.created","created":1700000000,"livemode":false,\
                "account":"acct_browser","data":{"object":{"id":"cus_1","object":"customer"}}}
                """,
            lastError: "the CRM answered 503")
    }

    @Test func logInReplayADeadEventSeeItSucceedAndLogOut() async throws {
        let chromium = try #require(ExternalTool.chromium, "chromium is not installed")
        let chromedriver = try #require(ExternalTool.chromedriver, "chromedriver is not installed (chromium-driver)")
        let python = try #require(
            ExternalTool.seleniumPython, "Selenium is missing: pip install -r Tests/CrossCheck/requirements.txt")
        let storage = InMemoryStorage()
        let tenant = Tenant(accountID: "acct_browser", mode: .test)
        _ = try await storage.installations.apply(
            InstallationChange(
                tenant: tenant, action: .activate, source: .installCallback, occurredAt: Date(), recordedAt: Date()))
        _ = try await storage.inbox.enqueue(Self.dead("evt_browser_replay"))
        _ = try await storage.inbox.enqueue(Self.dead("evt_browser_refused"))
        var configuration = AppConfiguration(appSecrets: try SigningKeyring(secrets: ["absec_admin_browser"]), port: 0)
        configuration.admin = AdminConfiguration(token: Self.token, readOnlyToken: Self.readOnlyToken)
        var handlers = EventHandlers()
        handlers.on("customer.created") { _ in }
        let (ports, portSignal) = AsyncStream<Int>.makeStream()
        let app = try buildApplication(
            configuration: configuration, storage: storage,
            hooks: ApplicationHooks(onServerRunning: { portSignal.yield($0) }, eventHandlers: handlers))
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "admin-browser"))
        try? FileManager.default.removeItem(at: Self.artifacts)
        let output = try await withThrowingTaskGroup(of: ProcessOutput?.self, returning: ProcessOutput?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            let port = try #require(try await firstValue(of: ports, within: .seconds(60)))
            let output = try await runProcessAsync(
                python,
                [
                    packageRoot.appendingPathComponent("Tests/Browser/admin_flow.py").path, "http://127.0.0.1:\(port)",
                    "evt_browser_replay", "evt_browser_refused", Self.artifacts.path,
                    "/admin/installations/test/acct_browser",
                ],
                environment: [
                    "ADMIN_TOKEN": Self.token, "ADMIN_READONLY_TOKEN": Self.readOnlyToken, "CHROMIUM": chromium.path,
                    "CHROMEDRIVER": chromedriver.path,
                ],
                timeout: .seconds(240))
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return output
        }
        let text = try #require(output?.standardOutput.split(separator: "\n").last.map(String.init))
        let results = try PayloadValue.parse(text)
        #expect(results["error"] == nil, "the flow stopped: \(text)\n\(output?.standardError.suffix(2000) ?? "")")
        #expect(results["anonymous_page"] == .string("login"))
        #expect(results["readonly_who"]?.stringValue?.contains("read-only") == true)
        #expect(results["readonly_replay_buttons"] == PayloadValue.number(0))
        #expect(results["readonly_replay"] == .string("read_only_session"))
        #expect(results["admin_who"]?.stringValue?.hasPrefix("admin session") == true)
        #expect(results["before_replay"] == .string("dead"))
        #expect(results["notice"]?.stringValue?.hasPrefix("Replayed") == true)
        #expect(results["after_replay"] == .string("succeeded"))
        #expect(results["sessionless_replay"] == .string("session_required"))
        #expect(results["before_block"] == .string("no"))
        #expect(results["block_notice"]?.stringValue?.hasPrefix("Blocked:") == true)
        #expect(results["after_block"]?.stringValue?.hasSuffix(": chargebacks from the browser") == true)
        #expect(results["unblock_buttons"] == PayloadValue.number(1))
        let block = try #require(try await storage.installations.installation(for: tenant)?.block)
        #expect(block.reason == "chargebacks from the browser" && block.blockedBy.hasPrefix("admin session "))
        #expect(results["after_logout"] == .string("login"))
        #expect(try await storage.admin.event(id: "evt_browser_replay")?.status == .succeeded)
        #expect(
            try await storage.admin.event(id: "evt_browser_refused")?.status == .dead, "refused clicks change nothing")
        for name in [
            "01-anonymous-redirected-to-login", "03-readonly-replay-refused", "06-admin-event-succeeded",
            "08-admin-tenant-blocked",
        ] {
            #expect(FileManager.default.fileExists(atPath: Self.artifacts.appendingPathComponent(name + ".png").path))
        }
    }
}
