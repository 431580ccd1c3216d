import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StripeApps

/// Wraps every admin route: failures become HTML pages (never a stack trace, never a 500 for bad input), and
/// every response gets the admin security headers: a CSP without scripts or inline styles, no framing, no
/// caching, no referrer. No CORS header is ever added.
struct AdminResponseMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as AdminPageError {
            response = try error.response(from: request, context: context)
        } catch let error as StoreError {
            context.logger.error("admin page: storage error", metadata: ["error.code": "\(error.code)"])
            response = try AdminPageError.storageUnavailable.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            response = try AdminPageError(
                .contentTooLarge, code: "payload_too_large", title: "Too large", message: "The form is too large."
            ).response(from: request, context: context)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("admin page: unexpected error", metadata: ["error.type": "\(type(of: error))"])
            response = try AdminPageError.unexpected.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = AdminPages.contentSecurityPolicy
        response.headers[.xFrameOptions] = "DENY"
        // `no-referrer` would make Chromium send `Origin: null` with the forms, which the same-origin check refuses.
        response.headers[.referrerPolicy] = "same-origin"
        response.headers[.cacheControl] = "no-store"
        response.headers[.crossOriginOpenerPolicy] = "same-origin"
        response.headers[.crossOriginResourcePolicy] = "same-origin"
        return response
    }
}

/// Lets a request through to the pages behind the login only with a valid session cookie, and a form post
/// only from this site, with the session's CSRF token, and from a full (not read-only) session unless it logs
/// out. A page request without a session is sent to the login form; a post is refused (403) and changes
/// nothing.
struct AdminSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let sessions: AdminSessions
    let cookieName: String
    /// The origin forms must come from (`PUBLIC_URL`'s), when known; else the request's own `Host`.
    let publicOrigin: String?

    /// The largest form read.
    static let maximumFormBytes = 64 * 1024

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let session = request.cookies[cookieName].flatMap { sessions.session(fromCookie: $0.value) }
        guard let session else {
            if request.method == .get || request.method == .head { return AdminPages.redirect("/admin/login") }
            throw AdminPageError.sessionRequired
        }
        var context = context
        context.adminSession = session
        guard request.method == .post else { return try await next(request, context) }
        try Self.checkSameOrigin(request, publicOrigin: publicOrigin)
        var request = request
        let form = AdminForm(try await request.collectBody(upTo: Self.maximumFormBytes))
        guard sessions.isValidCSRFToken(form["csrf"], for: session) else {
            context.logger.warning("admin form refused: CSRF token", metadata: ["admin.session": "\(session.actor)"])
            throw AdminPageError.invalidCSRFToken
        }
        if session.isReadOnly, request.uri.path != "/admin/logout" {
            context.logger.warning(
                "admin action refused: read-only session",
                metadata: ["admin.session": "\(session.actor)", "admin.path": "\(request.uri.path)"])
            throw AdminPageError.readOnly
        }
        context.adminForm = form
        return try await next(request, context)
    }

    /// Refuses a post that a browser says came from another site (`Sec-Fetch-Site`), or whose `Origin` is not
    /// this site's. Clients that send neither header (curl) still need the CSRF token.
    static func checkSameOrigin(_ request: Request, publicOrigin: String?) throws {
        if let site = request.headers[.secFetchSite], site != "same-origin" { throw AdminPageError.crossSite }
        guard let origin = request.headers[.origin] else { return }
        if let publicOrigin {
            guard origin == publicOrigin else { throw AdminPageError.crossSite }
            return
        }
        guard let host = request.head.authority,
            origin == "http://\(host)" || origin == "https://\(host)"
        else { throw AdminPageError.crossSite }
    }
}

/// The fields of an `application/x-www-form-urlencoded` body; a repeated name keeps its first value.
struct AdminForm: Sendable {
    private var fields: [String: String] = [:]

    init(_ body: ByteBuffer) {
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
    }

    init() {}

    subscript(name: String) -> String? { fields[name].flatMap { $0.isEmpty ? nil : $0 } }
}

// These names are valid header tokens, so the failable initializer cannot fail.
// swift-format-ignore: NeverForceUnwrap
extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}

/// The admin session and form of a request behind ``AdminSessionMiddleware``.
struct AdminRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The logged-in session.
    let session: AdminSession
    /// The posted form (empty for page requests), its CSRF token checked.
    let form: AdminForm

    /// Narrows an ``AppRequestContext``; refuses (403) when no session was checked, so a route mounted outside
    /// the session middleware fails closed.
    init(context: AppRequestContext) throws {
        guard let session = context.adminSession else { throw AdminPageError.sessionRequired }
        coreContext = context.coreContext
        self.session = session
        form = context.adminForm
    }
}

extension AdminRequestContext {
    /// A path parameter, percent-decoded (ids may hold any character); 404 when it cannot be decoded.
    func parameter(_ name: String) throws -> String {
        guard let value = try parameters.require(name).removingPercentEncoding else {
            throw AdminPageError.notFound("page")
        }
        return value
    }
}
