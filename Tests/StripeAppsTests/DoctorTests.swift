import Foundation
import StripeApps
import Testing

@Suite struct DoctorTests {
    static let manifestJSON = """
        {"id":"com.example.app","version":"1.0.0","name":"Example","icon":"./icon.png",
         "permissions":[{"permission":"event_read","purpose":"app events"}],
         "stripe_api_access_type":"platform","distribution_type":"public",
         "allowed_redirect_uris":["https://backend.example.com/install/callback"],
         "ui_extension":{"views":[],"content_security_policy":{"connect-src":["https://backend.example.com/api/"],"purpose":"API"}}}
        """

    static func manifest() throws -> AppManifest { try AppManifest(json: Data(manifestJSON.utf8)) }

    static func input(_ change: (inout Doctor.Input) -> Void = { _ in }) throws -> Doctor.Input {
        var input = Doctor.Input(
            manifest: try manifest(),
            appID: "com.example.app",
            publicURL: "https://backend.example.com",
            redirectURI: "https://backend.example.com/install/callback",
            installLink: "https://marketplace.stripe.com/apps/install/link/chnlink_1",
            appSecrets: "absec_new,absec_old",
            webhookSecretsLive: "whsec_live",
            webhookSecretsTest: "whsec_test"
        )
        change(&input)
        return input
    }

    func problems(_ input: Doctor.Input) -> [String] {
        Doctor.diagnose(input).filter { $0.severity == .problem }.map(\.message)
    }

    /// Unconfigured development mode covers every surface locally: the missing webhook secrets, `PUBLIC_URL` and
    /// install link are findings that say what stands in, not warnings; with an app id the real marketplace's rules
    /// apply again.
    @Test func developmentModeSaysWhatStandsInForEachMissingSetting() throws {
        var unconfigured = Doctor.Input()
        unconfigured.isDevelopmentMode = true
        unconfigured.port = 8080
        let findings = Doctor.diagnose(unconfigured)
        let notes = findings.filter { $0.severity == .ok }.map(\.message)
        #expect(
            notes.contains {
                $0.hasPrefix("STRIPE_WEBHOOK_SECRETS_LIVE is not set: in development mode /webhooks/live")
            })
        #expect(
            notes.contains {
                $0.hasPrefix("STRIPE_WEBHOOK_SECRETS_TEST is not set: in development mode /webhooks/test")
            })
        #expect(
            notes.contains {
                $0.contains("local stand-in marketplace sends installs back to http://127.0.0.1:8080/install/callback")
            })
        #expect(notes.contains { $0.contains("/install runs through a local stand-in marketplace (/dev/marketplace)") })
        #expect(
            !findings.contains {
                $0.message.contains("/install is disabled") || $0.message.contains("cannot be verified")
            })
        #expect(problems(unconfigured).isEmpty)

        var withAppID = unconfigured
        withAppID.appID = "com.example.app"
        withAppID.redirectURI = "http://127.0.0.1:8080/install/callback"
        #expect(problems(withAppID).contains { $0.contains("is not in allowed_redirect_uris") })
        #expect(!Doctor.diagnose(withAppID).contains { $0.message.contains("local stand-in") })
    }

    @Test func readsTheFieldsTheBackendUses() throws {
        let manifest = try Self.manifest()
        #expect(manifest.id == "com.example.app")
        #expect(manifest.allowedRedirectURIs == ["https://backend.example.com/install/callback"])
        #expect(manifest.connectSources == ["https://backend.example.com/api/"])
        #expect(manifest.permissions == ["event_read"])
        #expect(manifest.apiAccessType == "platform")
    }

    @Test func overrideFileExtendsTheBaseManifest() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.manifestJSON.write(
            to: directory.appendingPathComponent("stripe-app.json"), atomically: true, encoding: .utf8)
        let override =
            #"{"extends":"stripe-app.json","allowed_redirect_uris":["http://127.0.0.1:8080/install/callback"],"ui_extension":{"content_security_policy":{"connect-src":["http://localhost:8080/api/"]}}}"#
        try override.write(
            to: directory.appendingPathComponent("stripe-app.dev.json"), atomically: true, encoding: .utf8)
        let merged = try AppManifest.load(path: directory.appendingPathComponent("stripe-app.dev.json").path)
        #expect(merged.id == "com.example.app")
        #expect(merged.allowedRedirectURIs == ["http://127.0.0.1:8080/install/callback"])
        #expect(merged.connectSources == ["http://localhost:8080/api/"])
        #expect(merged.permissions == ["event_read"])
        let error = #expect(throws: ManifestError.self) {
            try AppManifest.load(path: directory.appendingPathComponent("missing.json").path)
        }
        #expect(error?.description.contains("missing.json") == true)
    }

    @Test func aGoodSetUpHasNoProblem() throws {
        #expect(problems(try Self.input()).isEmpty)
    }

    /// Install tickets need the token and the confirm page together; the link code must not cross in clear.
    @Test func installTicketsNeedBothHalves() throws {
        let tokenOnly = problems(try Self.input { $0.hasAppServerToken = true })
        #expect(tokenOnly.contains { $0.contains("INSTALL_CONFIRM_URL is not") })
        let pageOnly = Doctor.diagnose(try Self.input { $0.installConfirmURL = "https://app.example.com/linked" })
        #expect(pageOnly.contains { $0.severity == .warning && $0.message.contains("APP_SERVER_TOKEN is not") })
        let clear = Doctor.diagnose(
            try Self.input {
                $0.hasAppServerToken = true
                $0.installConfirmURL = "http://app.example.com/linked"
            })
        #expect(clear.contains { $0.severity == .warning && $0.message.contains("in clear") })
        let both = Doctor.diagnose(
            try Self.input {
                $0.hasAppServerToken = true
                $0.installConfirmURL = "https://app.example.com/linked"
            })
        #expect(both.contains { $0.severity == .ok && $0.message.contains("Install tickets") })
        #expect(!both.contains { $0.severity != .ok && $0.message.contains("INSTALL_CONFIRM_URL") })
    }

    /// A public backend with open metrics gets a warning; a token, or a backend that is not public, does not.
    @Test func publicMetricsWithoutATokenAreAWarning() throws {
        let open = Doctor.diagnose(try Self.input { $0.publicURL = "https://backend.example.com" })
        #expect(open.contains { $0.severity == .warning && $0.message.contains("METRICS_TOKEN is not set") })
        let guarded = Doctor.diagnose(
            try Self.input {
                $0.publicURL = "https://backend.example.com"
                $0.hasMetricsToken = true
            })
        #expect(!guarded.contains { $0.message.contains("METRICS_TOKEN") })
        let local = Doctor.diagnose(try Self.input { $0.publicURL = "http://127.0.0.1:8080" })
        #expect(!local.contains { $0.message.contains("METRICS_TOKEN") })
    }

    @Test func redirectURIMustMatchExactly() throws {
        let found = problems(try Self.input { $0.redirectURI = "https://backend.example.com/install/callback/" })
        #expect(found.contains { $0.contains("not in allowed_redirect_uris") && $0.contains("exact") })
    }

    @Test func connectSourceMustCoverTheAPIWithAPath() throws {
        var manifest = try Self.manifest()
        manifest.connectSources = ["https://backend.example.com"]
        let found = problems(try Self.input { $0.manifest = manifest })
        #expect(found.contains { $0.contains("has no path") })
        #expect(found.contains { $0.contains("not covered by connect-src") })
        manifest.connectSources = ["https://*.example.com/api/"]
        #expect(problems(try Self.input { $0.manifest = manifest }).isEmpty)
        manifest.connectSources = ["https://other.example.org/api/"]
        #expect(problems(try Self.input { $0.manifest = manifest }).contains { $0.contains("not covered") })
    }

    /// In development mode without PUBLIC_URL the UI calls the backend on this machine: connect-src should cover
    /// `http://localhost:PORT/api/` (a warning, as `stripe apps start` needs no entry), with the Local Network
    /// Access advice either way.
    @Test func developmentModeChecksThatConnectSourceCoversTheLocalBackend() throws {
        func development(_ sources: [String], port: Int = 8080) throws -> [Doctor.Finding] {
            var manifest = try Self.manifest()
            manifest.connectSources = sources
            return Doctor.diagnose(
                try Self.input {
                    $0.manifest = manifest
                    $0.publicURL = nil
                    $0.redirectURI = nil
                    $0.appSecrets = nil
                    $0.isDevelopmentMode = true
                    $0.port = port
                })
        }
        let uncovered = try development(["https://backend.example.com/api/"], port: 9090)
        let warning = try #require(uncovered.first { $0.message.hasPrefix("Development mode: the UI extension") })
        #expect(warning.severity == .warning)
        #expect(warning.message.contains("at http://localhost:9090/api/ (or http://127.0.0.1:9090/api/)"))
        #expect(warning.message.contains("Add http://localhost:9090/api/ to ui_extension"))
        #expect(warning.message.contains("Local Network Access") && warning.message.contains("HTTPS tunnel"))
        #expect(!uncovered.contains { $0.message.contains("connect-src") && $0.severity == .problem })

        for (sources, covered) in [
            (["http://localhost:8080/api/"], "http://localhost:8080/api/"),
            (["https://backend.example.com/api/", "http://127.0.0.1:8080/api/"], "http://127.0.0.1:8080/api/"),
        ] {
            let findings = try development(sources)
            let found = try #require(findings.first { $0.message.hasPrefix("connect-src covers") }, "\(sources)")
            #expect(found.severity == .ok)
            #expect(found.message.contains("covers \(covered), the backend's URL in development mode"))
            #expect(found.message.contains("Chrome 142 and later ask"))
            #expect(!findings.contains { $0.message.hasPrefix("Development mode: the UI extension") })
        }
        // Another port is not covered.
        #expect(
            try development(["http://localhost:8080/api/"], port: 8081).contains {
                $0.severity == .warning && $0.message.hasPrefix("Development mode: the UI extension")
            })
        // Outside development mode, without PUBLIC_URL, nothing says where the UI calls: no connect-src finding.
        var manifest = try Self.manifest()
        manifest.connectSources = ["http://localhost:8080/api/"]
        let production = Doctor.diagnose(
            try Self.input {
                $0.manifest = manifest
                $0.publicURL = nil
            })
        #expect(
            !production.contains {
                $0.message.contains("connect-src covers") || $0.message.contains("Development mode")
            })
    }

    /// With PUBLIC_URL in development mode, that URL is the one checked; the Local Network Access advice comes only
    /// when it is on this machine or a private network, not for a public tunnel.
    @Test func developmentModeWithPublicURLChecksItAndAdvisesOnLocalAddresses() throws {
        for (url, isLocal) in [
            ("http://192.168.1.20:8080", true), ("http://[::1]:8080/", true), ("http://localhost:8080", true),
            ("https://dev-1234.tunnel.example.com", false),
        ] {
            var manifest = try Self.manifest()
            let api = url.hasSuffix("/") ? url + "api/" : url + "/api/"
            manifest.connectSources = [api]
            let findings = Doctor.diagnose(
                try Self.input {
                    $0.manifest = manifest
                    $0.publicURL = url
                    $0.isDevelopmentMode = true
                })
            let covers = try #require(findings.first { $0.message.hasPrefix("connect-src covers \(api)") }, "\(url)")
            #expect(covers.message.contains("Local Network Access") == isLocal, "\(url)")
            manifest.connectSources = ["https://elsewhere.example.com/api/"]
            let missing = problems(
                try Self.input {
                    $0.manifest = manifest
                    $0.publicURL = url
                    $0.isDevelopmentMode = true
                })
            #expect(missing.contains { $0.contains("\(api) is not covered by connect-src") }, "\(url)")
        }
    }

    @Test func permissionsFollowTheFeaturesInUse() throws {
        var manifest = try Self.manifest()
        manifest.permissions = []
        let found = problems(try Self.input { $0.manifest = manifest })
        #expect(found.contains { $0.contains("event_read") })
        // secret_write only matters to an app that uses the Secret Store; a secret key alone says nothing of it.
        let keyOnly = Doctor.diagnose(try Self.input { $0.hasSecretKey = true }).map(\.message)
        #expect(!keyOnly.contains { $0.contains("secret_write") })
        let warnings = Doctor.diagnose(try Self.input { $0.usesSecretStore = true }).map(\.message)
        #expect(warnings.contains { $0.contains("secret_write") })
    }

    @Test func anOAuthAppWithoutASecretKeyOrEncryptionKeysIsAProblem() throws {
        var manifest = try Self.manifest()
        manifest.apiAccessType = "oauth"
        let bare = problems(try Self.input { $0.manifest = manifest })
        #expect(bare.contains { $0.contains("neither STRIPE_SECRET_KEY_LIVE nor STRIPE_SECRET_KEY_TEST is set") })
        #expect(bare.contains { $0.contains("ENCRYPTION_KEYS is not set") })
        let keysOnly = problems(
            try Self.input {
                $0.manifest = manifest
                $0.hasSecretKey = true
            })
        #expect(keysOnly.count == 1 && keysOnly[0].contains("ENCRYPTION_KEYS"))
        let ready = problems(
            try Self.input {
                $0.manifest = manifest
                $0.hasSecretKey = true
                $0.hasEncryptionKeys = true
            })
        #expect(!ready.contains { $0.contains("OAuth") })
        // A platform app needs neither.
        #expect(!problems(try Self.input()).contains { $0.contains("OAuth") })
    }

    @Test func theSummaryCountsProblemsAndWarnings() {
        let warning = Doctor.Finding(severity: .warning, message: "w")
        let problem = Doctor.Finding(severity: .problem, message: "p")
        let ok = Doctor.Finding(severity: .ok, message: "o")
        #expect(Doctor.summary(of: [ok]) == "No problems found.")
        #expect(Doctor.summary(of: [ok, warning]) == "No problems; 1 warning.")
        #expect(Doctor.summary(of: [warning, warning, ok]) == "No problems; 2 warnings.")
        #expect(Doctor.summary(of: [problem, warning, warning]) == "1 problem, 2 warnings.")
        #expect(Doctor.summary(of: [problem, problem]) == "2 problems, 0 warnings.")
    }

    @Test func secretsOfTheWrongKindOrWithWhitespaceAreProblems() throws {
        let swapped = problems(
            try Self.input {
                $0.appSecrets = "whsec_x"
                $0.webhookSecretsTest = "absec_y"
            })
        #expect(swapped.contains { $0.contains("STRIPE_APP_SECRETS entry 1 looks like a webhook secret") })
        #expect(
            swapped.contains { $0.contains("STRIPE_WEBHOOK_SECRETS_TEST entry 1 looks like an app signing secret") })
        let spaced = problems(try Self.input { $0.appSecrets = "absec_x ,absec_y\n" })
        #expect(spaced.contains { $0.contains("STRIPE_APP_SECRETS entry 1 has spaces") })
        #expect(spaced.contains { $0.contains("STRIPE_APP_SECRETS entry 2 has spaces") })
        let missing = Doctor.diagnose(try Self.input { $0.webhookSecretsLive = nil }).map(\.message)
        #expect(missing.contains { $0.contains("STRIPE_WEBHOOK_SECRETS_LIVE is not set") })
        // No message ever contains a secret's value.
        for finding in Doctor.diagnose(try Self.input { $0.appSecrets = "absec_valuevalue ,whsec_other" }) {
            #expect(!finding.message.contains("valuevalue") && !finding.message.contains("whsec_other"))
        }
    }

    @Test func theOAuthFormIsFlaggedForNonOAuthApps() throws {
        let warnings = Doctor.diagnose(try Self.input { $0.installLink = nil }).map(\.message)
        #expect(warnings.contains { $0.contains("meant for OAuth apps") })
        var oauth = try Self.manifest()
        oauth.apiAccessType = "oauth"
        #expect(
            !Doctor.diagnose(
                try Self.input {
                    $0.installLink = nil
                    $0.manifest = oauth
                }
            ).map(\.message).contains { $0.contains("meant for OAuth apps") })
    }

    @Test func appIDMustMatchTheManifest() throws {
        #expect(problems(try Self.input { $0.appID = "com.other.app" }).contains { $0.contains("manifest's id") })
    }

    @Test func aShortAdminTokenIsWeakAndAReadOnlyTokenAloneOpensNothing() throws {
        let short = Doctor.diagnose(try Self.input { $0.adminTokenLength = 12 })
        #expect(short.contains { $0.severity == .warning && $0.message.hasPrefix("ADMIN_TOKEN has 12 characters") })
        let strong = Doctor.diagnose(try Self.input { $0.adminTokenLength = 64 })
        #expect(!strong.contains { $0.message.contains("ADMIN_TOKEN has") })
        #expect(strong.contains { $0.severity == .ok && $0.message == "Admin page on at /admin." })
        let readOnly = Doctor.diagnose(try Self.input { $0.readOnlyAdminTokenLength = 40 })
        #expect(readOnly.contains { $0.message.hasPrefix("ADMIN_READONLY_TOKEN is set but ADMIN_TOKEN is not") })
        let clear = Doctor.diagnose(
            try Self.input {
                $0.adminTokenLength = 64
                $0.publicURL = "http://backend.example.com"
            })
        #expect(clear.contains { $0.severity == .warning && $0.message.hasPrefix("PUBLIC_URL is http") })
    }
}
