import Foundation
import StripeApps
import Testing

/// Deep links and install links, against a golden file: a change in the bytes of a link fails here.
@Suite struct LinkTests {
    static let cases: [(String, String)] = [
        (
            "deep/live/drawer",
            DeepLink(
                appID: "com.example.app", accountID: "acct_1JSkf6FRwUQjTSJE", mode: .live, page: "customers",
                viewport: "stripe.dashboard.customer.list"
            ).url
        ),
        (
            "deep/test/modal/nested-page",
            DeepLink(
                appID: "com.example.app", accountID: "acct_1", mode: .test, page: "customers/cus_123", target: .modal,
                viewport: "onboarding"
            ).url
        ),
        (
            "deep/escaping",
            DeepLink(
                appID: "com.example app&x=1", accountID: "acct_1", mode: .live, page: "/search/a b/",
                viewport: "settings?x=#y"
            ).url
        ),
        (
            "deep/custom-base-trailing-slash",
            DeepLink(
                appID: "com.example.app", accountID: "acct_1", mode: .test, page: "dashboard", viewport: "onboarding",
                dashboardBaseURL: "http://127.0.0.1:9/"
            ).url
        ),
        (
            "deep/legacy/test",
            DeepLink(appID: "com.example.app", accountID: "acct_1", mode: .test, page: "customers", viewport: "x")
                .legacyURL
        ),
        (
            "deep/legacy/live",
            DeepLink(appID: "com.example.app", accountID: "acct_1", mode: .live, page: "dashboard", viewport: "x")
                .legacyURL
        ),
        (
            "install/copied",
            InstallLink.copied("https://marketplace.stripe.com/apps/install/link/chnlink_61abc").url(
                redirectURI: "https://example.com/install/callback", state: "8f14e45fceea167a")
        ),
        (
            "install/copied-with-query",
            InstallLink.copied("https://marketplace.stripe.com/apps/install/link/x?ref=1").url(
                redirectURI: "https://example.com/cb?a=b&c=d", state: "s")
        ),
        (
            "install/oauth",
            InstallLink.oauth(appID: "com.example.app").url(
                redirectURI: "https://example.com/install/callback", state: "abc")
        ),
        (
            "install/no-state",
            InstallLink.oauth(appID: "com.example.app").url(redirectURI: "https://example.com/cb", state: nil)
        ),
    ]

    static let goldenURL = Bundle.module.url(forResource: "Fixtures/links", withExtension: "golden")!
    static let sourceGoldenURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/links.golden")

    /// `UPDATE_GOLDEN=1 swift test --filter LinkTests` rewrites the golden file after an intended change.
    @Test func linksMatchTheGoldenFile() throws {
        let produced = Self.cases.map { "\($0.0)\t\($0.1)" }.joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try produced.write(to: Self.sourceGoldenURL, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: Self.goldenURL, encoding: .utf8)
        #expect(produced == golden, "links changed; if intended, update Tests/StripeAppsTests/Fixtures/links.golden")
    }

    @Test func deepLinkFollowsStripesDocumentedShape() {
        let url = DeepLink(
            appID: "com.example.app", accountID: "acct_9", mode: .test, page: "invoices", target: .modal,
            viewport: "settings"
        ).url
        #expect(url.hasPrefix("https://dashboard.stripe.com/acct_9/test/invoices?"))
        #expect(url.hasSuffix("apps[com.example.app][modal]=settings"))
        #expect(
            !DeepLink(appID: "a", accountID: "acct_9", mode: .live, page: "x", viewport: "v").url.contains("/live/"))
    }

    @Test func installLinkKindIsRecognised() {
        #expect(InstallLink.oauth(appID: "x").isOAuthForm)
        #expect(!InstallLink.copied("https://marketplace.stripe.com/apps/install/link/x").isOAuthForm)
        #expect(DeepLink.Target(name: "sheet") == nil)
    }
}
