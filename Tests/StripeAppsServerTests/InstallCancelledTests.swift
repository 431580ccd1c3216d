import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StripeApps
import StripeAppsServer
import Testing

/// A user who cancels on Stripe's install page comes back with `error=access_denied` and, as Stripe documents it, no
/// `state` (issue 16, item 4): the page says the install was cancelled, and storage is left exactly as it was.
@Suite struct InstallCancelledTests {
    static let routes = InstallRouteTests()
    static let account = "acct_1JSkf6FRwUQjTSJE"

    /// What Stripe (or something else) may append to the redirect URI instead of a completed install.
    static let stateless = [
        "error=access_denied&error_description=The%20user%20denied%20your%20request",
        "error=access_denied",
        "error=server_error",
        "error=unheard_of&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "error=%3Cb%3Ebold%3C%2Fb%3E",
        "error=",
        "error=access_denied&user_id=usr_K6yd2CbXLO9A5G&account_id=acct_1JSkf6FRwUQjTSJE",
    ]

    /// Everything an install could have written: the started state (still usable), installations, the inbox and
    /// the audit trail.
    func expectUntouched(_ storage: InMemoryStorage, state: String, _ comment: Comment) async throws {
        let kept = try await storage.installStates.state(hash: InstallState.hash(of: state), now: testNow)
        #expect(kept != nil, "the started install's state was consumed: \(comment)")
        #expect(try await storage.installations.installations().isEmpty, comment)
        #expect(try await storage.inbox.events(status: nil, limit: 10).isEmpty, comment)
        #expect(try await storage.statistics.inboxCounts().byStatus.values.allSatisfy { $0 == 0 }, comment)
        for mode in [Tenant.Mode.live, .test] {
            #expect(try await storage.auditRecords(for: Tenant(accountID: Self.account, mode: mode)).isEmpty, comment)
        }
    }

    @Test(arguments: stateless)
    func anErrorWithoutStateShowsTheCancelledPageAndChangesNothing(_ query: String) async throws {
        let storage = InMemoryStorage()
        try await withTestApp(configuration: InstallRouteTests.configuration(), storage: storage) { client in
            let started = try await Self.routes.start(client)
            // In the browser that started the install (its cookie), and from anywhere else.
            for headers: HTTPFields in [[.cookie: started.cookie], [:]] {
                let response = try await client.execute(
                    uri: "/install/callback?" + query, method: .get, headers: headers)
                #expect(response.status == .badRequest)
                #expect(Self.routes.code(of: response) == "install_cancelled", "\(query)")
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(response.text.contains("<h1>Installation cancelled</h1>"))
                #expect(response.text.contains("Nothing was installed or recorded"))
                for reflected in ["<script>", "<b>", "unheard_of", "denied your request"] {
                    #expect(!response.text.contains(reflected), "\(query) reflects \(reflected)")
                }
                try await expectUntouched(storage, state: started.state, "\(query)")
            }
            // The state is as good as new: the same browser can still complete the install.
            let completed = try await client.execute(
                uri: try Self.routes.callbackURI(state: started.state), method: .get, headers: [.cookie: started.cookie]
            )
            #expect(completed.status == .found, "\(Self.routes.code(of: completed) ?? "")")
        }
    }

    @Test func aKnownErrorIsExplainedInPlainWords() async throws {
        try await withTestApp(configuration: InstallRouteTests.configuration()) { client in
            let denied = try await client.execute(uri: "/install/callback?error=access_denied", method: .get)
            #expect(denied.text.contains("the installation was cancelled in Stripe"))
            let unavailable = try await client.execute(
                uri: "/install/callback?error=temporarily_unavailable", method: .get)
            #expect(unavailable.text.contains("Stripe is temporarily unavailable"))
            let unknown = try await client.execute(uri: "/install/callback?error=quux", method: .get)
            #expect(unknown.text.contains("with an error this app does not know"))
        }
    }

    /// With a state, an error other than a cancellation is a failed install; its browser ends the state.
    @Test func anotherErrorWithTheStateInItsBrowserIsAFailedInstall() async throws {
        let storage = InMemoryStorage()
        try await withTestApp(configuration: InstallRouteTests.configuration(), storage: storage) { client in
            let started = try await Self.routes.start(client)
            let response = try await client.execute(
                uri: "/install/callback?error=server_error&state=\(started.state)", method: .get,
                headers: [.cookie: started.cookie])
            #expect(Self.routes.code(of: response) == "install_error")
            #expect(response.text.contains("Stripe had an internal error"))
            let kept = try await storage.installStates.state(hash: InstallState.hash(of: started.state), now: testNow)
            #expect(kept == nil)
            #expect(try await storage.installations.installations().isEmpty)
        }
    }
}
