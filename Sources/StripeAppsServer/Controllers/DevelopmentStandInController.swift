import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StripeApps

/// Development mode's local stand-ins for Stripe's pages, so the install flow runs on one machine with no Stripe
/// account: `GET /dev/marketplace` plays the marketplace's install page, `GET /dev/marketplace/install` sends the
/// browser back to the callback with a redirect signed by the development app secret (as Stripe signs it with
/// the app's secret), and `GET /dev/dashboard/…` shows what the onboarding deep link would open.
///
/// Registered only when ``AppConfiguration/usesLocalMarketplace``: development mode (loopback only) with no
/// install link and no app id. It signs only for this backend's own redirect URI, so it is no signing service for
/// anything else.
struct DevelopmentStandInController<States: InstallStateStore> {
    let targets: InstallTargets
    /// Read to preselect the mode an install was started for (`/install?mode=…`), as the user would pick it.
    let states: States
    let signing: AppSigning
    let now: @Sendable () -> Date

    /// The account and user the marketplace page suggests.
    static var defaultAccount: String { "acct_dev" }
    static var defaultUser: String { "usr_dev" }

    func register(on router: Router<AppRequestContext>) {
        router.get("dev/marketplace") { request, _ in try await marketplace(request) }
        router.get("dev/marketplace/install") { request, _ in try install(request) }
        router.get("dev/dashboard/**") { request, _ in dashboard(request) }
    }

    /// The install page: what the marketplace shows the user, with the account, user and mode to install as.
    private func marketplace(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let redirectURI = query.get("redirect_uri"), let state = query.get("state"), !state.isEmpty else {
            return HTMLPage(
                status: .badRequest, code: "missing_parameters", title: "This install link is incomplete",
                message: "The marketplace link lacks redirect_uri or state. Start from /install."
            ).response()
        }
        guard targets.allows(redirectURI: redirectURI) else { return redirectNotAllowed }
        let started =
            InstallState.isWellFormed(state)
            ? try await states.state(hash: InstallState.hash(of: state), now: now())?.mode : nil
        let mode = started ?? .test
        let e = HTMLPage.escape
        let cancel =
            redirectURI + "?error=access_denied&error_description="
            + URLComponentEncoding.encode("The user denied your request")
        let body = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>Install \(e(targets.appID ?? "the app")) (local marketplace)</title></head>
            <body data-code="local_marketplace"><main>
            <h1>Install \(e(targets.appID ?? "the app"))</h1>
            <p>A local stand-in for the Stripe App Marketplace, served by stripe-apps-backend in development mode. \
            Install sends you back to this backend's callback with a redirect signed by the development app secret, \
            as Stripe signs it with your app's secret.</p>
            <form method="get" action="/dev/marketplace/install">
            <input type="hidden" name="redirect_uri" value="\(e(redirectURI))">
            <input type="hidden" name="state" value="\(e(state))">
            <p><label>Account <input name="account_id" value="\(Self.defaultAccount)" required></label></p>
            <p><label>User <input name="user_id" value="\(Self.defaultUser)" required></label></p>
            <p><label>Mode <select name="mode"><option value="test"\(mode.isLive ? "" : " selected")>test</option>\
            <option value="live"\(mode.isLive ? " selected" : "")>live</option></select></label></p>
            <p><button type="submit">Install</button> <a href="\(e(cancel))">Cancel</a></p>
            </form></main></body></html>
            """
        return Self.html(.ok, body)
    }

    /// Signs the redirect back to the callback, as Stripe does once the user installed.
    private func install(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        guard let redirectURI = query.get("redirect_uri"), let state = query.get("state"), !state.isEmpty,
            let accountID = query.get("account_id"), let userID = query.get("user_id")
        else {
            return HTMLPage(
                status: .badRequest, code: "missing_parameters", title: "This install link is incomplete",
                message: "The form lacks redirect_uri, state, account_id or user_id. Start from /install."
            ).response()
        }
        guard targets.allows(redirectURI: redirectURI) else { return redirectNotAllowed }
        let mode = query.get("mode").flatMap(Tenant.Mode.init) ?? .test
        guard StripeID.isValid(accountID, prefix: "acct_"), StripeID.isValid(userID, prefix: "usr_") else {
            return HTMLPage(
                status: .badRequest, code: "invalid_parameters", title: "These ids are not valid",
                message: "The account starts with acct_ and the user with usr_, followed by letters, digits or _."
            ).response()
        }
        let payload = try InstallRedirectPayload(state: state, userID: userID, accountID: accountID)
        let signature = SignatureSigner(keyring: try signing.keyring(), now: now)
            .signatureHeader(for: payload.bytes).headerValue
        var items = [
            ("user_id", userID), ("account_id", accountID), ("state", state), ("install_signature", signature),
        ]
        if !mode.isLive { items.append(("livemode", "false")) }
        let location =
            redirectURI + "?" + items.map { $0 + "=" + URLComponentEncoding.encode($1) }.joined(separator: "&")
        return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// What Stripe's Dashboard would open for a deep link: the account, the mode, the page and the app's view.
    private func dashboard(_ request: Request) -> Response {
        var segments = request.uri.path.split(separator: "/").dropFirst(2).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        let account = segments.isEmpty ? "" : segments.removeFirst()
        let isTest = segments.first == "test"
        if isTest { segments.removeFirst() }
        let page = segments.joined(separator: "/")
        // `apps[APP_ID][drawer|modal]=VIEWPORT`, Stripe's documented form.
        let views = request.uri.queryParameters.compactMap { key, value -> String? in
            let parts = String(key).split(whereSeparator: { $0 == "[" || $0 == "]" }).map(String.init)
            guard parts.count == 3, parts[0] == "apps" else { return nil }
            return "app \(parts[1]) in a \(parts[2]), viewport \(value)"
        }
        let e = HTMLPage.escape
        let body = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>Stripe Dashboard (local stand-in)</title></head>
            <body data-code="local_dashboard"><main>
            <h1>Stripe Dashboard (local stand-in)</h1>
            <p>Served by stripe-apps-backend in development mode, where the onboarding deep link ends. Stripe's \
            Dashboard would open:</p>
            <dl><dt>Account</dt><dd data-account>\(e(account))</dd>
            <dt>Mode</dt><dd data-mode>\(isTest ? "test" : "live")</dd>
            <dt>Page</dt><dd data-page>\(e(page))</dd>
            <dt>View</dt><dd data-view>\(e(views.joined(separator: "; ")))</dd></dl>
            </main></body></html>
            """
        return Self.html(.ok, body)
    }

    private var redirectNotAllowed: Response {
        HTMLPage(
            status: .badRequest, code: "redirect_uri_not_allowed", title: "This install link is not valid",
            message: "The local marketplace sends users back only to this backend's own /install/callback."
        ).response()
    }

    private static func html(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy:
                    "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
