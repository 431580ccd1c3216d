import Foundation
import StripeApps
import Testing

/// The `links` and `doctor` commands, as a user runs them.
@Suite struct LinkAndDoctorCommandTests {
    @Test func linksPrintTheLibrarysURLsAndNothingElse() async throws {
        let deep = try await runProcessAsync(
            ExternalTool.backend,
            [
                "links", "deep", "--app-id", "com.example.app", "--account", "acct_1", "--page", "customers/cus_1",
                "--test", "--target", "modal", "--viewport", "settings",
            ]
        )
        #expect(deep.status == 0)
        #expect(
            deep.standardOutput == DeepLink(
                appID: "com.example.app", accountID: "acct_1", mode: .test, page: "customers/cus_1", target: .modal,
                viewport: "settings"
            ).url + "\n")
        let legacy = try await runProcessAsync(
            ExternalTool.backend,
            ["links", "deep", "--app-id", "a.b", "--page", "customers", "--legacy"])
        #expect(legacy.standardOutput == "https://dashboard.stripe.com/customers?open_drawer_app=a.b\n")
        // The legacy form has no account: one given with it would be dropped without a word, so it is refused;
        // the documented form needs a valid one.
        for (arguments, message) in [
            (["--account", "acct_1", "--legacy"], "--legacy links open the signed-in account's Dashboard"),
            ([], "--account is required"), (["--account", "cus_1"], "--account must be an account id"),
        ] {
            let refused = try await runProcessAsync(
                ExternalTool.backend, ["links", "deep", "--app-id", "a.b", "--page", "customers"] + arguments)
            #expect(refused.status != 0 && refused.standardOutput.isEmpty, "\(arguments)")
            #expect(refused.standardError.contains(message), "\(arguments): \(refused.standardError)")
        }
        let install = try await runProcessAsync(
            ExternalTool.backend,
            [
                "links", "install", "--app-id", "com.example.app", "--redirect-uri", "https://x.example/cb", "--state",
                "s1",
            ])
        #expect(
            install.standardOutput
                == "https://marketplace.stripe.com/oauth/v2/authorize?client_id=com.example.app&redirect_uri=https%3A%2F%2Fx.example%2Fcb&state=s1\n"
        )
        let generated = try await runProcessAsync(
            ExternalTool.backend,
            ["links", "install", "--install-link", "https://marketplace.stripe.com/apps/install/link/x"])
        #expect(generated.standardOutput.range(of: #"\?state=[0-9a-f]{64}\n$"#, options: .regularExpression) != nil)
        let bad = try await runProcessAsync(
            ExternalTool.backend,
            ["links", "deep", "--app-id", "a", "--account", "acct_1", "--page", "p", "--target", "sheet"])
        #expect(bad.status != 0 && bad.standardOutput.isEmpty)
    }

    @Test func doctorExitsOneOnAProblemAndNamesIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest =
            #"{"id":"com.example.app","permissions":[],"allowed_redirect_uris":["https://backend.example.com/install/callback"],"ui_extension":{"content_security_policy":{"connect-src":["https://backend.example.com"]}}}"#
        try manifest.write(to: directory.appendingPathComponent("stripe-app.json"), atomically: true, encoding: .utf8)
        var environment = [
            "STRIPE_APP_ID": "com.example.app", "PUBLIC_URL": "https://backend.example.com",
            "STRIPE_APP_SECRETS": "whsec_swapped_secret_value", "STRIPE_WEBHOOK_SECRETS_LIVE": "whsec_live",
            "STRIPE_INSTALL_LINK": "https://marketplace.stripe.com/apps/install/link/x",
        ]
        let result = try await runProcessAsync(
            ExternalTool.backend, ["doctor"], environment: environment, currentDirectory: directory)
        #expect(result.status == 1)
        for expected in ["looks like a webhook secret", "has no path", "not covered by connect-src", "event_read"] {
            #expect(result.standardOutput.contains(expected), "\(expected)")
        }
        #expect(!result.standardOutput.contains("swapped_secret_value"))

        environment["STRIPE_APP_SECRETS"] = "absec_good"
        let fixed =
            #"{"id":"com.example.app","permissions":[{"permission":"event_read"}],"allowed_redirect_uris":["https://backend.example.com/install/callback"],"ui_extension":{"content_security_policy":{"connect-src":["https://backend.example.com/api/"]}}}"#
        try fixed.write(to: directory.appendingPathComponent("stripe-app.json"), atomically: true, encoding: .utf8)
        let good = try await runProcessAsync(
            ExternalTool.backend, ["doctor"], environment: environment, currentDirectory: directory)
        #expect(good.status == 0, "\(good.standardOutput)")
        #expect(good.standardOutput.hasSuffix("No problems; 2 warnings.\n"), "the warnings above are counted")
        #expect(!good.standardOutput.contains("INSTALL_SIGNATURE_LEGACY_HMAC"))

        // The legacy install HMAC is a loud warning whenever it is on (issue 12, item 4), not a problem.
        environment["INSTALL_SIGNATURE_LEGACY_HMAC"] = "true"
        let legacy = try await runProcessAsync(
            ExternalTool.backend, ["doctor"], environment: environment, currentDirectory: directory)
        #expect(legacy.status == 0, "\(legacy.standardOutput)")
        #expect(
            legacy.standardOutput.contains("warning: INSTALL_SIGNATURE_LEGACY_HMAC is on"), "\(legacy.standardOutput)")
    }
}
