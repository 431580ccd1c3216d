import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StripeApps

/// The admin page, `/admin`: registered only when `ADMIN_TOKEN` is set, so without it every admin path is a
/// plain 404, as for a route that does not exist.
///
/// `/admin/login` and the style sheet are open; everything else goes through ``AdminSessionMiddleware``. Each
/// page controller gets the stores it reads.
enum AdminRoutes {
    static func register<Storage: StorageBackend>(
        on router: Router<AppRequestContext>,
        configuration: AppConfiguration,
        storage: Storage,
        now: @escaping @Sendable () -> Date,
        worker: InboxWorker?
    ) {
        guard let token = configuration.admin.token else { return }
        let sessions = AdminSessions(
            token: token, readOnlyToken: configuration.admin.readOnlyToken,
            lifetime: TimeInterval(configuration.admin.sessionSeconds), now: now)
        let pages: AdminPages
        do {
            pages = try AdminPages(sessions: sessions)
        } catch {
            // The templates are compiled in and parsed by the tests: this cannot happen in a tested build.
            preconditionFailure("the admin templates do not parse: \(error)")
        }
        let isSecure = (configuration.publicURL ?? "").hasPrefix("https://")
        let login = AdminLoginController(
            sessions: sessions, pages: pages, isSecure: isSecure,
            limiter: ClientRateLimiter(perMinute: configuration.admin.loginRateLimitPerMinute, date: now),
            configuration: configuration)
        let open = router.group("admin").add(middleware: AdminResponseMiddleware())
        login.registerOpen(on: open)
        let guarded = open.add(
            middleware: AdminSessionMiddleware(
                sessions: sessions, cookieName: login.cookieName, publicOrigin: origin(of: configuration.publicURL))
        ).group(context: AdminRequestContext.self)
        login.registerLogout(on: guarded)
        AdminOverviewController(
            pages: pages, admin: storage.admin, statistics: storage.statistics
        ).register(on: guarded)
        AdminInboxController(pages: pages, admin: storage.admin, worker: worker, now: now).register(on: guarded)
        AdminInstallationsController(
            pages: pages, admin: storage.admin, installations: storage.installations, settings: storage.settings,
            credentials: storage.credentials, now: now
        ).register(on: guarded)
        AdminJobsController(pages: pages, jobs: storage.jobs, schedules: storage.schedules, now: now)
            .register(on: guarded)
    }

    /// `scheme://host[:port]` of a URL, as browsers send it in `Origin`.
    static func origin(of url: String?) -> String? {
        guard let url, let components = URLComponents(string: url), let scheme = components.scheme,
            let host = components.host
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}

/// `GET`/`POST /admin/login`, `POST /admin/logout` and the style sheet.
struct AdminLoginController: Sendable {
    let sessions: AdminSessions
    let pages: AdminPages
    let isSecure: Bool
    let limiter: ClientRateLimiter
    let configuration: AppConfiguration

    /// `__Host-` and `Secure` when `PUBLIC_URL` is https, as the install cookie.
    var cookieName: String { isSecure ? "__Host-stripe_apps_admin" : "stripe_apps_admin" }

    func registerOpen(on group: RouterGroup<AppRequestContext>) {
        group.get("assets/admin.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                body: .init(byteBuffer: .init(string: AdminTemplates.styleSheet)))
        }
        group.get("login") { request, _ in
            if let cookie = request.cookies[cookieName], sessions.session(fromCookie: cookie.value) != nil {
                return AdminPages.redirect("/admin")
            }
            return pages.page("login", [:], AdminPages.Frame(title: "Log in", code: "login"))
        }
        group.post("login") { request, context in try await logIn(request, context) }
    }

    func registerLogout(on group: RouterGroup<AdminRequestContext>) {
        group.post("logout") { _, context in
            sessions.revoke(context.session)
            context.logger.info("admin logout", metadata: ["admin.session": "\(context.session.actor)"])
            var response = AdminPages.redirect("/admin/login")
            response.setCookie(cookie("", maxAge: 0))
            return response
        }
    }

    private func logIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let client = configuration.clientAddress(of: request, peer: context.remoteAddress)
        if let wait = limiter.take(client) {
            context.logger.warning("admin login rate-limited", metadata: ["client.address": "\(client)"])
            let seconds = max(1, Int((Double(wait.components.seconds) + 0.999).rounded(.down)))
            return pages.message(
                .tooManyRequests, code: "rate_limited", title: "Too many attempts",
                message: "Too many login attempts from this address. Wait a minute and try again.",
                back: "/admin/login"
            ).with(header: .retryAfter, "\(seconds)")
        }
        try AdminSessionMiddleware.checkSameOrigin(
            request, publicOrigin: AdminRoutes.origin(of: configuration.publicURL))
        var request = request
        let form = AdminForm(try await request.collectBody(upTo: AdminSessionMiddleware.maximumFormBytes))
        guard let token = form["token"], let role = sessions.role(forToken: token) else {
            context.logger.warning("admin login refused", metadata: ["client.address": "\(client)"])
            var response = pages.page(
                "login", [:],
                AdminPages.Frame(
                    title: "Log in", code: "login_refused", notice: "That token is not valid.", status: .unauthorized))
            response.headers[.wwwAuthenticate] = "FormBased"
            return response
        }
        let (session, value) = sessions.open(role)
        context.logger.info(
            "admin login", metadata: ["admin.session": "\(session.actor)", "client.address": "\(client)"])
        var response = AdminPages.redirect("/admin")
        response.setCookie(cookie(value, maxAge: Int(sessions.lifetime)))
        return response
    }

    private func cookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: cookieName, value: value, maxAge: maxAge, path: "/", secure: isSecure, httpOnly: true,
            sameSite: .strict)
    }
}

extension Response {
    /// This response with one more header.
    func with(header name: HTTPField.Name, _ value: String) -> Response {
        var response = self
        response.headers[name] = value
        return response
    }
}
