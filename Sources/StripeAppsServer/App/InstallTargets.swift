import Foundation
import StripeApps
import Synchronization

/// The address development mode's local stand-ins are reached at: `http://127.0.0.1:PORT`, with the port the
/// server got (which `PORT=0` only tells once it listens; until then, the configured one).
final class LocalBaseURL: Sendable {
    private let port: Atomic<Int>

    init(port: Int) {
        self.port = Atomic(port)
    }

    /// Records the port the server listens on.
    func set(port: Int) {
        self.port.store(port, ordering: .relaxed)
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    var url: String { "http://127.0.0.1:\(port.load(ordering: .relaxed))" }
}

/// Where the install flow sends the browser: the marketplace link, the redirect URI Stripe sends it back to, and
/// the Dashboard of the onboarding deep link.
///
/// Outside development mode all of it is configured. In development mode, what is not configured is local, so the
/// whole flow runs on one machine: `PUBLIC_URL` defaults to the local address; with neither `STRIPE_INSTALL_LINK`
/// nor `STRIPE_APP_ID`, the install link is the local stand-in marketplace (`/dev/marketplace`), which signs the
/// redirect with the development app secret, and the deep link opens the local stand-in Dashboard
/// (`/dev/dashboard`): the accounts installed there are made up, and Stripe's Dashboard cannot open them.
struct InstallTargets: Sendable {
    let configuration: AppConfiguration
    let local: LocalBaseURL

    /// The id the deep link names when neither `STRIPE_APP_ID` nor a manifest gives one, with the local stand-ins.
    static let developmentAppID = "com.example.development"

    /// Whether the local stand-in marketplace and Dashboard take the place of Stripe's.
    var usesLocalStandIns: Bool { configuration.usesLocalMarketplace }

    /// The public base URL: `PUBLIC_URL`, else in development mode the local address.
    var publicURL: String? {
        configuration.publicURL ?? (configuration.isDevelopmentMode ? local.url : nil)
    }

    /// The marketplace link `/install` redirects to, or `nil` when none is configured.
    var link: InstallLink? {
        if let link = configuration.install.link(appID: configuration.appID) { return link }
        return usesLocalStandIns ? .copied(local.url + "/dev/marketplace") : nil
    }

    /// The redirect URI: `INSTALL_REDIRECT_URI`, else the public base URL's `/install/callback`.
    var redirectURI: String? {
        configuration.install.redirectURI
            ?? publicURL.map(InstallConfiguration.redirectURI(publicURL:))
    }

    /// Whether the marketplace will send the user back to `redirectURI`: it is in the manifest's
    /// `allowed_redirect_uris` or `ALLOWED_REDIRECT_URIS`; with the local stand-in, it is the one redirect URI.
    func allows(redirectURI: String) -> Bool {
        if usesLocalStandIns { return redirectURI == self.redirectURI }
        return configuration.allowedRedirectURIs.contains(redirectURI)
    }

    /// The app id of the onboarding deep link, when there is one.
    var appID: String? {
        configuration.appID ?? configuration.manifest?.id ?? (usesLocalStandIns ? Self.developmentAppID : nil)
    }

    /// The Dashboard the onboarding deep link opens: the local stand-in with the local marketplace, else
    /// `STRIPE_DASHBOARD_URL`.
    var dashboardBaseURL: String {
        usesLocalStandIns ? local.url + "/dev/dashboard" : configuration.install.dashboardBaseURL
    }
}

extension AppConfiguration {
    /// Whether development mode stands in for Stripe's marketplace and Dashboard: no `STRIPE_APP_SECRETS`, and
    /// neither `STRIPE_INSTALL_LINK` nor `STRIPE_APP_ID` (see `Docs/install.md`).
    public var usesLocalMarketplace: Bool { isDevelopmentMode && install.link(appID: appID) == nil }
}
