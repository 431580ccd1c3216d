/// A link that opens the Stripe Dashboard on a page, with the app's view open in a drawer or a modal.
///
/// Stripe's documented form puts the account first and the mode after it, `test` for test mode and nothing
/// for live mode:
/// `https://dashboard.stripe.com/acct_123/test/customers?apps[com.example.app][drawer]=onboarding`.
/// (A widely read blog post puts the mode first, `…/live/acct_123/…`; Stripe's docs do not.) The legacy
/// form, `…/test/customers?open_drawer_app=com.example.app`, is available with ``legacyURL``.
///
/// Deep links are for external contexts: emails, websites, the end of an install. Inside the app, use route
/// descriptors. Share live-mode links: a user without the app installed lands on a closed app.
public struct DeepLink: Sendable, Hashable {
    /// Where the app's view opens.
    public struct Target: Sendable, Hashable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// The side drawer.
        public static let drawer = Target("drawer")
        /// A full-screen modal, for focused flows such as onboarding.
        public static let modal = Target("modal")

        /// Reads `drawer` or `modal`.
        public init?(name: String) {
            guard name == "drawer" || name == "modal" else { return nil }
            self.name = name
        }

        public var description: String { name }
    }

    /// The app id from `stripe-app.json`.
    public var appID: String
    /// The account (`acct_…`) whose Dashboard opens.
    public var accountID: String
    /// Test or live mode.
    public var mode: Tenant.Mode
    /// The Dashboard page, e.g. `customers`, `customers/cus_123` or `dashboard`.
    public var page: String
    /// Drawer or modal.
    public var target: Target
    /// The viewport to open, e.g. `onboarding`, `settings` or `stripe.dashboard.customer.detail`.
    public var viewport: String
    /// The Dashboard's base URL; a test points it at a stand-in server.
    public var dashboardBaseURL: String

    /// Creates a deep link.
    public init(
        appID: String,
        accountID: String,
        mode: Tenant.Mode,
        page: String,
        target: Target = .drawer,
        viewport: String,
        dashboardBaseURL: String = "https://dashboard.stripe.com"
    ) {
        self.appID = appID
        self.accountID = accountID
        self.mode = mode
        self.page = page
        self.target = target
        self.viewport = viewport
        self.dashboardBaseURL = dashboardBaseURL
    }

    /// The link in Stripe's documented form.
    ///
    /// The query key keeps its literal brackets, as Stripe documents it; the app id, the viewport and each
    /// path segment are percent-encoded (RFC 3986 unreserved characters stay as they are).
    public var url: String {
        let key = "apps[\(URLComponentEncoding.encode(appID))][\(target)]"
        return pageURL(withAccount: true) + "?" + key + "=" + URLComponentEncoding.encode(viewport)
    }

    /// The legacy form, `…/[test/]PAGE?open_drawer_app=APP_ID`, which opens the drawer's default view.
    public var legacyURL: String {
        pageURL(withAccount: false) + "?open_drawer_app=" + URLComponentEncoding.encode(appID)
    }

    private func pageURL(withAccount: Bool) -> String {
        var parts = [URLComponentEncoding.withoutTrailingSlashes(dashboardBaseURL)]
        if withAccount { parts.append(URLComponentEncoding.encode(accountID)) }
        if !mode.isLive { parts.append("test") }
        let path = URLComponentEncoding.encodePath(page)
        if !path.isEmpty { parts.append(path) }
        return parts.joined(separator: "/")
    }
}
