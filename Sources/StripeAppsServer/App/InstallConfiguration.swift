public import Configuration
public import Foundation
public import StripeApps

/// How `/install` and `/install/callback` behave.
///
/// | Key (environment variable) | Default | Meaning |
/// |---|---|---|
/// | `STRIPE_INSTALL_LINK` | none | the install link copied from the Dashboard; without it, the OAuth form with `STRIPE_APP_ID` |
/// | `INSTALL_REDIRECT_URI` | `PUBLIC_URL` + `/install/callback` | the `redirect_uri` sent to Stripe |
/// | `ALLOWED_REDIRECT_URIS` | none | comma-separated, added to the manifest's `allowed_redirect_uris` |
/// | `STRIPE_APP_MANIFEST` | `stripe-app.json` | the manifest to read, when it exists |
/// | `INSTALL_SIGNATURE_TOLERANCE_SECONDS` | `300` | the time window of `install_signature` |
/// | `INSTALL_SIGNATURE_LEGACY_HMAC` | `false` | also accept the blog's bare hex HMAC of the account id |
/// | `INSTALL_SUCCESS_URL` | none | where to send the user after an install instead of the onboarding deep link |
/// | `INSTALL_CONFIRM_URL` | none | the app's page an install started with a ticket returns to, with `?link_code=…` |
/// | `INSTALL_TICKET_LIFETIME_SECONDS` | `3600` | how long an install ticket may wait before `/install?ticket=…` |
/// | `ONBOARDING_PAGE` | `dashboard` | the Dashboard page of the onboarding deep link |
/// | `ONBOARDING_TARGET` | `drawer` | `drawer` or `modal` |
/// | `ONBOARDING_VIEWPORT` | `onboarding` | the viewport the deep link opens |
/// | `STRIPE_DASHBOARD_URL` | `https://dashboard.stripe.com` | the Dashboard's base URL (tests use a stand-in) |
public struct InstallConfiguration: Sendable {
    /// The link copied from the Dashboard, when configured.
    public var installLink: String?
    /// The redirect URI, when it can be built.
    public var redirectURI: String?
    /// Redirect URIs allowed by configuration, added to the manifest's.
    public var configuredRedirectURIs: [String]
    /// The manifest path.
    public var manifestPath: String
    /// The window of `install_signature`.
    public var signatureTolerance: SignatureTolerance
    /// Whether the legacy scheme is accepted too.
    public var acceptsLegacySignatures: Bool
    /// A fixed page to send the user to after an install.
    public var successURL: String?
    /// The app's page an install started with a ticket returns to, with `link_code` added to its query.
    public var confirmURL: String?
    /// How long an install ticket is accepted.
    public var ticketLifetime: TimeInterval = 3600
    /// How long a link code is accepted.
    public var linkCodeLifetime: TimeInterval = 600
    /// The onboarding page.
    public var onboardingPage: String
    /// Drawer or modal.
    public var onboardingTarget: DeepLink.Target
    /// The onboarding viewport.
    public var onboardingViewport: String
    /// The Dashboard base URL.
    public var dashboardBaseURL: String
    /// How long a state is accepted.
    public var stateLifetime: TimeInterval

    /// The defaults.
    public init(
        installLink: String? = nil,
        redirectURI: String? = nil,
        configuredRedirectURIs: [String] = [],
        manifestPath: String = "stripe-app.json",
        signatureTolerance: SignatureTolerance = .default,
        acceptsLegacySignatures: Bool = false,
        successURL: String? = nil,
        onboardingPage: String = "dashboard",
        onboardingTarget: DeepLink.Target = .drawer,
        onboardingViewport: String = "onboarding",
        dashboardBaseURL: String = "https://dashboard.stripe.com",
        stateLifetime: TimeInterval = 600
    ) {
        self.installLink = installLink
        self.redirectURI = redirectURI
        self.configuredRedirectURIs = configuredRedirectURIs
        self.manifestPath = manifestPath
        self.signatureTolerance = signatureTolerance
        self.acceptsLegacySignatures = acceptsLegacySignatures
        self.successURL = successURL
        self.onboardingPage = onboardingPage
        self.onboardingTarget = onboardingTarget
        self.onboardingViewport = onboardingViewport
        self.dashboardBaseURL = dashboardBaseURL
        self.stateLifetime = stateLifetime
    }

    /// Reads the keys in the table above; `publicURL` builds the default redirect URI.
    public init(reader: ConfigReader, publicURL: String?) throws {
        self.init()
        func text(_ key: ConfigKey) -> String? {
            reader.string(forKey: key).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
                $0.isEmpty ? nil : $0
            }
        }
        installLink = text("stripe.install.link")
        redirectURI =
            text("install.redirect.uri")
            ?? publicURL.map(Self.redirectURI(publicURL:))
        configuredRedirectURIs = (text("allowed.redirect.uris") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        manifestPath = text("stripe.app.manifest") ?? manifestPath
        if let seconds = text("install.signature.tolerance.seconds") {
            guard let value = Int64(seconds), value >= 1, value <= 86_400 else {
                throw ConfigurationError(
                    variable: "INSTALL_SIGNATURE_TOLERANCE_SECONDS", problem: "must be a whole number from 1 to 86400")
            }
            signatureTolerance = try SignatureTolerance(seconds: value)
        }
        if let legacy = text("install.signature.legacy.hmac") {
            guard let value = Bool(legacy.lowercased()) else {
                throw ConfigurationError(variable: "INSTALL_SIGNATURE_LEGACY_HMAC", problem: "must be true or false")
            }
            acceptsLegacySignatures = value
        }
        successURL = text("install.success.url")
        if let successURL, !(successURL.hasPrefix("https://") || successURL.hasPrefix("http://")) {
            throw ConfigurationError(variable: "INSTALL_SUCCESS_URL", problem: "must be an absolute http(s) URL")
        }
        confirmURL = text("install.confirm.url")
        if let confirmURL, !(confirmURL.hasPrefix("https://") || confirmURL.hasPrefix("http://")) {
            throw ConfigurationError(variable: "INSTALL_CONFIRM_URL", problem: "must be an absolute http(s) URL")
        }
        if let seconds = text("install.ticket.lifetime.seconds") {
            guard let value = Int(seconds), value >= 60, value <= 604_800 else {
                throw ConfigurationError(
                    variable: "INSTALL_TICKET_LIFETIME_SECONDS", problem: "must be a whole number from 60 to 604800")
            }
            ticketLifetime = TimeInterval(value)
        }
        onboardingPage = text("onboarding.page") ?? onboardingPage
        if let target = text("onboarding.target") {
            guard let parsed = DeepLink.Target(name: target) else {
                throw ConfigurationError(variable: "ONBOARDING_TARGET", problem: "must be drawer or modal")
            }
            onboardingTarget = parsed
        }
        onboardingViewport = text("onboarding.viewport") ?? onboardingViewport
        dashboardBaseURL = text("stripe.dashboard.url") ?? dashboardBaseURL
    }

    /// The redirect URI of a backend served at `publicURL`: its `/install/callback`.
    static func redirectURI(publicURL: String) -> String {
        URLComponentEncoding.withoutTrailingSlashes(publicURL) + "/install/callback"
    }

    /// The marketplace link `/install` redirects to, or `nil` when neither a link nor an app id is configured.
    public func link(appID: String?) -> InstallLink? {
        if let installLink { return .copied(installLink) }
        return appID.map { .oauth(appID: $0) }
    }
}
