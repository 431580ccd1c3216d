import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StripeApps
import StripeAppsServer
import Testing

/// Every HTML error page names its code and the troubleshooting guide for the app's developers; pages that are not
/// errors do not (issue 16, item 6).
@Suite struct ErrorPageTests {
    static let line = "Docs/troubleshooting.md of stripe-apps-backend"

    @Test func installErrorPagesPointToTheGuide() async throws {
        try await withTestApp(configuration: InstallRouteTests.configuration()) { client in
            for (query, code) in [
                ("error=access_denied", "install_cancelled"), ("state=s", "missing_parameters"),
                ("user_id=usr_1&account_id=acct_1&state=s&install_signature=t%3D1", "browser_mismatch"),
            ] {
                let page = try await client.execute(uri: "/install/callback?" + query, method: .get)
                #expect(page.status.code >= 400)
                #expect(
                    page.text.contains("<footer><p>For the app&#39;s developers: code \(code) is explained"), "\(code)")
                #expect(page.text.contains(Self.line), "\(code)")
            }
        }
        // Not an error: the plain "App installed" page has no such line.
        var configuration = try InstallRouteTests.configuration()
        configuration.appID = nil
        configuration.manifest = AppManifest(allowedRedirectURIs: [InstallRouteTests.callback])
        try await withTestApp(configuration: configuration) { client in
            let routes = InstallRouteTests()
            let started = try await routes.start(client)
            let installed = try await client.execute(
                uri: try routes.callbackURI(state: started.state), method: .get, headers: [.cookie: started.cookie])
            #expect(routes.code(of: installed) == "installed")
            #expect(!installed.text.contains(Self.line))
        }
    }

    @Test func adminErrorPagesPointToTheGuide() async throws {
        try await AdminRouteTests.withAdmin { client in
            let refused = try await client.execute(
                uri: "/admin/events/evt_1/replay", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"], body: .init(string: "csrf=x"))
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("code session_required is explained"))
            #expect(refused.text.contains(Self.line))
            let login = try await client.execute(uri: "/admin/login", method: .get)
            #expect(login.status == .ok)
            #expect(!login.text.contains(Self.line))
        }
    }
}
