import Foundation

/// Configuration checks that say in plain words what is wrong, for `stripe-apps-backend doctor` and start-up.
public enum Doctor: Sendable {
    /// What the checks look at: the manifest and the raw configuration values.
    public struct Input: Sendable {
        /// The manifest, when one was found.
        public var manifest: AppManifest?
        /// Where the manifest was looked for.
        public var manifestPath: String
        /// `STRIPE_APP_ID`.
        public var appID: String?
        /// `PUBLIC_URL`.
        public var publicURL: String?
        /// The install callback URL the backend sends as `redirect_uri`.
        public var redirectURI: String?
        /// Redirect URIs allowed by configuration (`ALLOWED_REDIRECT_URIS`), in addition to the manifest's.
        public var configuredRedirectURIs: [String]
        /// `STRIPE_INSTALL_LINK`.
        public var installLink: String?
        /// The raw, untrimmed `STRIPE_APP_SECRETS`.
        public var appSecrets: String?
        /// The raw `STRIPE_WEBHOOK_SECRETS_LIVE`.
        public var webhookSecretsLive: String?
        /// The raw `STRIPE_WEBHOOK_SECRETS_TEST`.
        public var webhookSecretsTest: String?
        /// Whether a platform secret key is configured (`STRIPE_SECRET_KEY_LIVE` or `_TEST`).
        public var hasSecretKey: Bool
        /// Whether install redirects may also carry the legacy bare HMAC of the account id
        /// (`INSTALL_SIGNATURE_LEGACY_HMAC`).
        public var acceptsLegacyInstallHMAC: Bool
        /// Whether `APP_SERVER_TOKEN` is set (install tickets).
        public var hasAppServerToken: Bool = false
        /// `INSTALL_CONFIRM_URL`, the page an install started with a ticket returns to.
        public var installConfirmURL: String?
        /// How many characters `ADMIN_TOKEN` has; `nil` when it is not set (no admin page).
        public var adminTokenLength: Int?
        /// How many characters `ADMIN_READONLY_TOKEN` has; `nil` when it is not set.
        public var readOnlyAdminTokenLength: Int?
        /// Whether `METRICS_TOKEN` is set (`GET /metrics` needs it as a bearer token).
        public var hasMetricsToken: Bool = false
        /// Whether `ENCRYPTION_KEYS` is set (tenant credentials, OAuth tokens among them, are sealed with it).
        public var hasEncryptionKeys: Bool = false
        /// Whether the app keeps tenant secrets in Stripe's Secret Store (`SecretStoreSecrets`), which needs the
        /// `secret_write` permission. The backend itself never does; an app that does says so here.
        public var usesSecretStore: Bool = false
        /// Whether `serve` runs in development mode (no `STRIPE_APP_SECRETS`): on `127.0.0.1`, where a UI extension
        /// in the Dashboard calls `http://localhost:PORT/api/` unless `PUBLIC_URL` names a tunnel.
        public var isDevelopmentMode: Bool = false
        /// Whether development mode stands in for the marketplace: no install link and no app id.
        var usesLocalMarketplace: Bool { isDevelopmentMode && installLink == nil && appID == nil }
        /// The port `serve` listens on (`PORT`).
        public var port: Int = 8080

        /// Creates an input; everything is optional.
        public init(
            manifest: AppManifest? = nil,
            manifestPath: String = "stripe-app.json",
            appID: String? = nil,
            publicURL: String? = nil,
            redirectURI: String? = nil,
            configuredRedirectURIs: [String] = [],
            installLink: String? = nil,
            appSecrets: String? = nil,
            webhookSecretsLive: String? = nil,
            webhookSecretsTest: String? = nil,
            hasSecretKey: Bool = false,
            acceptsLegacyInstallHMAC: Bool = false
        ) {
            self.manifest = manifest
            self.manifestPath = manifestPath
            self.appID = appID
            self.publicURL = publicURL
            self.redirectURI = redirectURI
            self.configuredRedirectURIs = configuredRedirectURIs
            self.installLink = installLink
            self.appSecrets = appSecrets
            self.webhookSecretsLive = webhookSecretsLive
            self.webhookSecretsTest = webhookSecretsTest
            self.hasSecretKey = hasSecretKey
            self.acceptsLegacyInstallHMAC = acceptsLegacyInstallHMAC
        }
    }

    /// One result of a check.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        /// How serious it is.
        public struct Severity: Sendable, Hashable, CustomStringConvertible, Comparable {
            private let rank: Int
            private let name: String

            private init(_ rank: Int, _ name: String) {
                self.rank = rank
                self.name = name
            }

            /// Fine.
            public static let ok = Severity(0, "ok")
            /// Works, but probably not as intended.
            public static let warning = Severity(1, "warning")
            /// Will fail.
            public static let problem = Severity(2, "problem")

            public var description: String { name }

            public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
        }

        /// How serious it is.
        public let severity: Severity
        /// What is wrong and what to do, in plain words; never a secret's value.
        public let message: String

        /// Creates a finding (an app's own checks can sit beside the built-in ones).
        public init(severity: Severity, message: String) {
            self.severity = severity
            self.message = message
        }

        public var description: String { "\(severity): \(message)" }
    }

    /// Runs every check.
    public static func diagnose(_ input: Input) -> [Finding] {
        var findings: [Finding] = []
        checkSecrets(input, into: &findings)
        checkManifest(input, into: &findings)
        checkInstallLink(input, into: &findings)
        if input.acceptsLegacyInstallHMAC {
            findings.append(Finding(severity: .warning, message: legacyInstallHMACWarning))
        }
        checkInstallTickets(input, into: &findings)
        checkStripeAccess(input, into: &findings)
        checkAdminPage(input, into: &findings)
        checkMetrics(input, into: &findings)
        return findings
    }

    /// The last line of a report: the number of problems and of warnings, both counted, so that "no problems"
    /// never hides the warnings above it.
    public static func summary(of findings: [Finding]) -> String {
        let problems = findings.filter { $0.severity == .problem }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        switch (problems, warnings) {
        case (0, 0): return "No problems found."
        case (0, _): return "No problems; \(count(warnings, "warning"))."
        default: return "\(count(problems, "problem")), \(count(warnings, "warning"))."
        }
    }

    /// What the app's API access type needs: an OAuth app exchanges install codes with a secret key and keeps the
    /// tokens sealed with `ENCRYPTION_KEYS`; without either the install callback answers 503
    /// (`oauth_not_configured`). Apps with restricted keys keep each tenant's key sealed too.
    private static func checkStripeAccess(_ input: Input, into findings: inout [Finding]) {
        switch input.manifest?.apiAccessType {
        case "oauth":
            if !input.hasSecretKey {
                findings.append(
                    Finding(
                        severity: .problem,
                        message:
                            "The app uses OAuth but neither STRIPE_SECRET_KEY_LIVE nor STRIPE_SECRET_KEY_TEST is set: the install callback cannot exchange the authorization code and answers 503 oauth_not_configured."
                    ))
            }
            if !input.hasEncryptionKeys {
                findings.append(
                    Finding(
                        severity: .problem,
                        message:
                            "The app uses OAuth but ENCRYPTION_KEYS is not set: the tokens cannot be stored sealed, so the install callback answers 503 oauth_not_configured. Set ENCRYPTION_KEYS to a base64 32-byte key (openssl rand -base64 32)."
                    ))
            }
        case "restricted_api_key":
            if !input.hasEncryptionKeys {
                findings.append(
                    Finding(
                        severity: .warning,
                        message:
                            "The app uses restricted API keys but ENCRYPTION_KEYS is not set: each tenant's key cannot be stored sealed (TenantCredentials). Set ENCRYPTION_KEYS (openssl rand -base64 32)."
                    ))
            }
        default:
            break
        }
    }

    /// The length under which an admin token is called weak: 32 characters, as `openssl rand -hex 16` gives.
    public static let recommendedAdminTokenLength = 32

    /// The admin page: off without `ADMIN_TOKEN`; tokens long enough to resist guessing; a session cookie that
    /// does not cross the network in clear.
    private static func checkAdminPage(_ input: Input, into findings: inout [Finding]) {
        guard let length = input.adminTokenLength else {
            if input.readOnlyAdminTokenLength != nil {
                findings.append(
                    Finding(
                        severity: .warning,
                        message: "ADMIN_READONLY_TOKEN is set but ADMIN_TOKEN is not: the admin page stays off (404)."))
            }
            return
        }
        for (name, count) in [("ADMIN_TOKEN", length), ("ADMIN_READONLY_TOKEN", input.readOnlyAdminTokenLength)] {
            guard let count, count < recommendedAdminTokenLength else { continue }
            findings.append(
                Finding(
                    severity: .warning,
                    message:
                        "\(name) has \(count) characters: a short token can be guessed despite the login rate limit. Use at least \(recommendedAdminTokenLength) random characters (openssl rand -hex 32)."
                ))
        }
        if let url = input.publicURL, url.hasPrefix("http://") {
            findings.append(
                Finding(
                    severity: .warning,
                    message:
                        "PUBLIC_URL is http: the admin token and the admin session cookie would cross the network in clear. Serve the backend over https."
                ))
        } else {
            findings.append(Finding(severity: .ok, message: "Admin page on at /admin."))
        }
    }

    /// Install tickets need both halves: the token the app's server authenticates with, and the page the link
    /// code is sent to.
    private static func checkMetrics(_ input: Input, into findings: inout [Finding]) {
        guard !input.hasMetricsToken, (input.publicURL ?? "").hasPrefix("https://") else { return }
        findings.append(
            Finding(
                severity: .warning,
                message:
                    "PUBLIC_URL is public (https) and METRICS_TOKEN is not set: anyone can read /metrics (request rates, inbox depth, failing handlers). Set METRICS_TOKEN (openssl rand -hex 32) and give it to Prometheus as a bearer token, or block /metrics at the proxy."
            ))
    }

    private static func checkInstallTickets(_ input: Input, into findings: inout [Finding]) {
        switch (input.hasAppServerToken, input.installConfirmURL) {
        case (true, nil):
            findings.append(
                Finding(
                    severity: .problem,
                    message:
                        "APP_SERVER_TOKEN is set but INSTALL_CONFIRM_URL is not: POST /install/tickets refuses to issue tickets (503), since the link code would have nowhere to go."
                ))
        case (false, .some):
            findings.append(
                Finding(
                    severity: .warning,
                    message:
                        "INSTALL_CONFIRM_URL is set but APP_SERVER_TOKEN is not: your server cannot ask for install tickets or redeem link codes."
                ))
        case (true, let url?):
            if url.hasPrefix("http://"), !(input.publicURL ?? "").hasPrefix("http://") {
                findings.append(
                    Finding(
                        severity: .warning,
                        message: "INSTALL_CONFIRM_URL is http: the one-time link code would cross the network in clear."
                    ))
            } else {
                findings.append(
                    Finding(severity: .ok, message: "Install tickets: the link code goes to INSTALL_CONFIRM_URL."))
            }
        case (false, nil):
            break
        }
    }

    /// What `doctor` and the server's start-up say while the legacy install HMAC is accepted.
    public static let legacyInstallHMACWarning =
        "INSTALL_SIGNATURE_LEGACY_HMAC is on: install redirects are also accepted with the legacy bare HMAC of the "
        + "account id, which binds no time, state or user, so a captured one can be replayed for ever. Turn it off "
        + "once no install link of the app still produces it."

    /// What a list of secrets must look like, and what to say when it does not.
    private struct SecretKind {
        let variable: String
        let prefix: String
        let whenMissing: String
        let whenSwapped: String
        let swappedPrefix: String
    }

    private static func checkSecrets(_ input: Input, into findings: inout [Finding]) {
        let app = SecretKind(
            variable: "STRIPE_APP_SECRETS",
            prefix: "absec_",
            whenMissing: "serve runs in development mode (127.0.0.1 only, a local secret Stripe cannot sign with).",
            whenSwapped: "looks like a webhook secret (whsec_…). UI calls and install redirects are signed with the "
                + "app's signing secret (absec_…), under the app's details → Signing secret.",
            swappedPrefix: "whsec_"
        )
        check(input.appSecrets, as: app, into: &findings)
        for (mode, value) in [("live", input.webhookSecretsLive), ("test", input.webhookSecretsTest)] {
            let webhook = SecretKind(
                variable: "STRIPE_WEBHOOK_SECRETS_\(mode.uppercased())",
                prefix: "whsec_",
                whenMissing: "\(mode)-mode webhooks cannot be verified. Copy the signing secret of the \(mode)-mode "
                    + "Connect endpoint.",
                whenSwapped: "looks like an app signing secret (absec_…). Webhooks are signed with the endpoint's own "
                    + "secret (whsec_…).",
                swappedPrefix: "absec_"
            )
            if input.isDevelopmentMode, entries(value).isEmpty {
                findings.append(
                    .init(
                        severity: .ok,
                        message:
                            "STRIPE_WEBHOOK_SECRETS_\(mode.uppercased()) is not set: in development mode /webhooks/\(mode) verifies with a local development secret kept in the database, which `simulate event` signs with and Stripe cannot. Set it to the \(mode)-mode endpoint's secret before Stripe sends real events."
                    ))
                continue
            }
            check(value, as: webhook, into: &findings)
        }
    }

    private static func check(_ value: String?, as kind: SecretKind, into findings: inout [Finding]) {
        let secrets = entries(value)
        if secrets.isEmpty {
            findings.append(.init(severity: .warning, message: "\(kind.variable) is not set: \(kind.whenMissing)"))
        }
        for (position, entry) in secrets.enumerated() {
            let name = "\(kind.variable) entry \(position + 1)"
            if entry.hasWhitespace {
                findings.append(
                    .init(
                        severity: .problem,
                        message: "\(name) has spaces or a line break in it; the whole string is the HMAC key, so "
                            + "signatures will not match. Remove them."
                    )
                )
            }
            if entry.trimmed.hasPrefix(kind.swappedPrefix) {
                findings.append(.init(severity: .problem, message: "\(name) \(kind.whenSwapped)"))
            } else if !entry.trimmed.hasPrefix(kind.prefix) {
                findings.append(
                    .init(severity: .warning, message: "\(name) does not start with \(kind.prefix), as it should.")
                )
            }
        }
    }

    private static func checkManifest(_ input: Input, into findings: inout [Finding]) {
        guard let manifest = input.manifest else {
            findings.append(
                .init(
                    severity: .warning,
                    message:
                        "No manifest at \(input.manifestPath): redirect URIs, connect-src and permissions were not checked. Set STRIPE_APP_MANIFEST to its path."
                ))
            checkRedirect(input, allowed: input.configuredRedirectURIs, into: &findings)
            return
        }
        if let appID = input.appID, let id = manifest.id, appID != id {
            findings.append(
                .init(severity: .problem, message: "STRIPE_APP_ID is \(appID) but the manifest's id is \(id)."))
        }
        checkRedirect(input, allowed: manifest.allowedRedirectURIs + input.configuredRedirectURIs, into: &findings)
        if input.isDevelopmentMode, input.publicURL == nil {
            checkLocalConnectSource(input, manifest, into: &findings)
        } else if let publicURL = input.publicURL {
            let api = URLComponentEncoding.withoutTrailingSlashes(publicURL) + "/api/"
            for source in manifest.connectSources where !hasPath(source) {
                findings.append(
                    .init(
                        severity: .problem,
                        message:
                            "connect-src entry \(source) has no path; Stripe rejects it. Use \(URLComponentEncoding.withoutTrailingSlashes(source))/api/."
                    ))
            }
            // A development backend reached through PUBLIC_URL on this machine or the local network is still
            // behind Chrome's Local Network Access prompt.
            let advice =
                input.isDevelopmentMode && host(of: publicURL).map(LocalNetwork.isLocal(host:)) == true
                ? " " + localNetworkAccessAdvice(apiURL: api) : ""
            if !manifest.connectSources.contains(where: { covers($0, api) }) {
                findings.append(
                    .init(
                        severity: .problem,
                        message:
                            "The backend's \(api) is not covered by connect-src \(manifest.connectSources); the UI extension cannot call it. Add \(api) to ui_extension.content_security_policy.connect-src.\(advice)"
                    ))
            } else {
                findings.append(.init(severity: .ok, message: "connect-src covers \(api).\(advice)"))
            }
        }
        let hasWebhooks = !entries(input.webhookSecretsLive).isEmpty || !entries(input.webhookSecretsTest).isEmpty
        if hasWebhooks, !manifest.permissions.contains("event_read") {
            findings.append(
                .init(
                    severity: .problem,
                    message:
                        "Webhook secrets are configured but the manifest lacks the event_read permission: Stripe sends app events only to apps that have it."
                ))
        }
        if input.usesSecretStore, !manifest.permissions.contains("secret_write") {
            findings.append(
                .init(
                    severity: .warning,
                    message:
                        "The manifest lacks secret_write: the Secret Store (/v1/apps/secrets) will answer with a permission error."
                ))
        }
    }

    /// In development mode without `PUBLIC_URL`, the UI extension calls the backend on this machine: connect-src
    /// should cover `http://localhost:PORT/api/` (or the `127.0.0.1` form). Only a warning: under
    /// `stripe apps start`, localhost needs no entry.
    private static func checkLocalConnectSource(
        _ input: Input, _ manifest: AppManifest, into findings: inout [Finding]
    ) {
        let urls = localAPIURLs(port: input.port)
        let advice = localNetworkAccessAdvice(apiURL: urls[0])
        if let covered = urls.first(where: { url in manifest.connectSources.contains { covers($0, url) } }) {
            findings.append(
                .init(
                    severity: .ok,
                    message: "connect-src covers \(covered), the backend's URL in development mode. \(advice)"))
        } else {
            findings.append(
                .init(
                    severity: .warning,
                    message:
                        "Development mode: the UI extension calls the backend at \(urls[0]) (or \(urls[1])), which connect-src \(manifest.connectSources) does not cover, so an uploaded app cannot call it (under stripe apps start, localhost needs no entry). Add \(urls[0]) to ui_extension.content_security_policy.connect-src of a development manifest (stripe-app.dev.json extending stripe-app.json), or expose the backend over a public HTTPS tunnel, set PUBLIC_URL to it and list that URL. \(advice)"
                ))
        }
    }

    /// The URLs a UI extension calls a development backend on this machine at: `http://localhost:PORT/api/` and
    /// `http://127.0.0.1:PORT/api/`.
    public static func localAPIURLs(port: Int) -> [String] {
        ["http://localhost:\(port)/api/", "http://127.0.0.1:\(port)/api/"]
    }

    /// What to do so that the Dashboard, a public page, may call a backend on a loopback or private address at
    /// `apiURL`: Chrome 142 and later ask for Local Network Access first, a permission no header can grant.
    public static func localNetworkAccessAdvice(apiURL: String) -> String {
        "The Dashboard is a public page: Chrome 142 and later ask before it calls \(apiURL) on this machine or network (Local Network Access). Allow the prompt (or the site's Local network access setting), keep \(apiURL) in the manifest's connect-src, or expose the backend over a public HTTPS tunnel and set PUBLIC_URL to it."
    }

    /// The host of a URL (`scheme://host[:port]/…`, an IPv6 host in brackets), or `nil`.
    static func host(of url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        var authority = url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        return String(authority.prefix { $0 != ":" })
    }

    private static func checkRedirect(_ input: Input, allowed: [String], into findings: inout [Finding]) {
        if input.usesLocalMarketplace {
            let callback = input.redirectURI ?? "http://127.0.0.1:\(input.port)/install/callback"
            findings.append(
                .init(
                    severity: .ok,
                    message:
                        "Development mode: the local stand-in marketplace sends installs back to \(callback)\(input.publicURL == nil ? " (PUBLIC_URL defaults to the local address)" : "")."
                ))
            return
        }
        guard let redirectURI = input.redirectURI else {
            findings.append(
                .init(
                    severity: .warning,
                    message: "PUBLIC_URL is not set: the install callback URL cannot be built, so /install is disabled."
                ))
            return
        }
        if allowed.contains(redirectURI) {
            findings.append(
                .init(severity: .ok, message: "The install callback \(redirectURI) is in allowed_redirect_uris."))
        } else {
            findings.append(
                .init(
                    severity: .problem,
                    message:
                        "The install callback \(redirectURI) is not in allowed_redirect_uris (\(allowed.isEmpty ? "empty" : allowed.joined(separator: ", "))); the match must be exact. Add it to the manifest and upload the app."
                ))
        }
        if redirectURI.hasPrefix("http://") {
            findings.append(
                .init(
                    severity: .warning,
                    message: "The install callback uses http; Stripe requires https redirect URIs in live mode."))
        }
    }

    private static func checkInstallLink(_ input: Input, into findings: inout [Finding]) {
        if let link = input.installLink {
            if !link.hasPrefix("https://marketplace.stripe.com/") {
                findings.append(
                    .init(
                        severity: .warning,
                        message:
                            "STRIPE_INSTALL_LINK does not start with https://marketplace.stripe.com/; copy it from the app's External test or Settings tab."
                    ))
            }
        } else if input.appID != nil {
            let accessType = input.manifest?.apiAccessType
            if accessType != "oauth" {
                findings.append(
                    .init(
                        severity: .warning,
                        message:
                            "STRIPE_INSTALL_LINK is not set, so /install uses the OAuth form (…/oauth/v2/authorize?client_id=…), which is meant for OAuth apps; this app's access type is \(accessType ?? "unknown"). Copy the install link from the Dashboard into STRIPE_INSTALL_LINK."
                    ))
            }
        } else if input.usesLocalMarketplace {
            findings.append(
                .init(
                    severity: .ok,
                    message:
                        "Neither STRIPE_INSTALL_LINK nor STRIPE_APP_ID is set: in development mode /install runs through a local stand-in marketplace (/dev/marketplace) that signs with the development secret, and ends on a local stand-in Dashboard (/dev/dashboard)."
                ))
        } else {
            findings.append(
                .init(
                    severity: .warning,
                    message: "Neither STRIPE_INSTALL_LINK nor STRIPE_APP_ID is set: /install is disabled."))
        }
    }

    private struct Entry {
        let raw: Substring
        var trimmed: String { raw.trimmingCharacters(in: .whitespacesAndNewlines) }
        var hasWhitespace: Bool { raw.contains { $0.isWhitespace } }
    }

    private static func entries(_ value: String?) -> [Entry] {
        (value ?? "").split(separator: ",").map(Entry.init).filter { !$0.trimmed.isEmpty }
    }

    /// Whether a URL has a path beyond `/`, as connect-src entries must.
    static func hasPath(_ url: String) -> Bool {
        guard let scheme = url.range(of: "://") else { return false }
        let afterHost = url[scheme.upperBound...].drop { $0 != "/" }
        return afterHost.count > 1
    }

    /// Whether a connect-src entry allows `url`: exact match, or a prefix ending in `/` (a subtree); a `*.` in
    /// the left-most host label matches any one or more labels.
    static func covers(_ source: String, _ url: String) -> Bool {
        guard hasPath(source) else { return false }
        if source == url || (source.hasSuffix("/") && url.hasPrefix(source)) { return true }
        guard let wildcard = source.range(of: "://*.") else { return false }
        let scheme = source[..<wildcard.lowerBound]
        let rest = source[wildcard.upperBound...]
        guard url.hasPrefix(scheme + "://"), let urlHostStart = url.range(of: "://") else { return false }
        let urlRest = url[urlHostStart.upperBound...]
        guard let dot = urlRest.firstIndex(of: ".") else { return false }
        let candidate = String(urlRest[urlRest.index(after: dot)...])
        return candidate == rest || (rest.hasSuffix("/") && candidate.hasPrefix(rest))
            || covers(String(scheme) + "://*." + rest, String(scheme) + "://" + candidate)
    }
}
