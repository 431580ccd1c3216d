public import HTTPTypes
public import Hummingbird

/// A refusal or failure on the admin page, answered as an HTML page with a stable code in `data-code`.
///
/// Messages are fixed texts: they never quote request input, tokens or stored data. The page names its code and
/// `Docs/troubleshooting.md`, which explains every code.
public struct AdminPageError: HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// The stable, machine-readable code.
    public let code: String
    /// The page title.
    public let title: String
    /// A safe explanation.
    public let message: String
    /// Extra response headers (`Retry-After` on a 429).
    public let headers: HTTPFields

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, title: String, message: String, headers: HTTPFields = [:])
    {
        self.status = status
        self.code = code
        self.title = title
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        HTMLPage(status: status, code: code, title: title, message: message).response(headers: headers)
    }
}

extension AdminPageError {
    /// 403: a change needs a logged-in session.
    static let sessionRequired = AdminPageError(
        .forbidden, code: "session_required", title: "Log in first",
        message: "This action needs an admin session. Log in at /admin/login and try again.")
    /// 403: the form did not carry this session's CSRF token.
    static let invalidCSRFToken = AdminPageError(
        .forbidden, code: "csrf_token_invalid", title: "The form has expired",
        message: "The form did not carry this session's token. Reload the page and submit it again.")
    /// 403: a form posted from another site.
    static let crossSite = AdminPageError(
        .forbidden, code: "cross_site_request", title: "Refused",
        message: "Admin forms can only be submitted from the admin page itself.")
    /// 403: a read-only session tried a change.
    static let readOnly = AdminPageError(
        .forbidden, code: "read_only_session", title: "Read-only session",
        message: "This session was opened with ADMIN_READONLY_TOKEN: it can look, not change anything.")
    /// 404: no such event, job or tenant.
    static func notFound(_ what: String) -> AdminPageError {
        AdminPageError(.notFound, code: "not_found", title: "Not found", message: "There is no such \(what).")
    }
    /// 400: a filter or form value that cannot be read.
    static func badRequest(_ code: String, _ message: String) -> AdminPageError {
        AdminPageError(.badRequest, code: code, title: "Bad request", message: message)
    }
    /// 503: storage cannot be reached.
    static let storageUnavailable = AdminPageError(
        .serviceUnavailable, code: "storage_unavailable", title: "Storage is unavailable",
        message: "The database cannot be reached right now; nothing was changed. Retry in a moment.")
    /// 500: anything unexpected; the details are in the log.
    static let unexpected = AdminPageError(
        .internalServerError, code: "internal_error", title: "Something failed",
        message: "The server failed to handle the request; the log has the details.")
}
