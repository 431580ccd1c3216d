/// The marketplace link that starts an installation, with `redirect_uri` and `state` added.
///
/// Stripe documents the link copied from the app's Dashboard page
/// (`https://marketplace.stripe.com/apps/install/link/…`); OAuth apps, and a widely read blog post, use
/// `https://marketplace.stripe.com/oauth/v2/authorize?client_id=APP_ID&redirect_uri=…&state=…`.
public struct InstallLink: Sendable, Hashable {
    /// The base link, without `redirect_uri` and `state`.
    public let base: String

    /// The link copied from the Dashboard (External test or Settings tab). Any query it has is kept.
    public static func copied(_ link: String) -> InstallLink {
        InstallLink(base: link)
    }

    /// The OAuth form for an app id.
    public static func oauth(appID: String, marketplaceBaseURL: String = "https://marketplace.stripe.com")
        -> InstallLink
    {
        let root = URLComponentEncoding.withoutTrailingSlashes(marketplaceBaseURL)
        return InstallLink(base: root + "/oauth/v2/authorize?client_id=" + URLComponentEncoding.encode(appID))
    }

    /// Whether this is the OAuth form (`/oauth/v2/…authorize`), meant for OAuth apps.
    public var isOAuthForm: Bool { base.contains("/oauth/v2/") }

    /// The link with `redirect_uri` and, when given, `state` appended, percent-encoded.
    public func url(redirectURI: String?, state: String?) -> String {
        var query: [String] = []
        if let redirectURI { query.append("redirect_uri=" + URLComponentEncoding.encode(redirectURI)) }
        if let state { query.append("state=" + URLComponentEncoding.encode(state)) }
        guard !query.isEmpty else { return base }
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return base + separator + query.joined(separator: "&")
    }
}
