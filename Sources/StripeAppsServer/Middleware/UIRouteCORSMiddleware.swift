public import HTTPTypes
public import Hummingbird

/// CORS for the UI-extension routes only: the extension runs in a sandboxed iframe whose origin is `null`,
/// which no allow-list can match, so these routes answer `Access-Control-Allow-Origin: *`. Their
/// authentication is the signature, never a cookie, so no credentials are allowed.
///
/// Every other route (webhooks, install, admin, health) gets no CORS header at all. The preflight and
/// header logic is Hummingbird's `CORSMiddleware`; this wrapper limits it to a path prefix, and adds the
/// `*` also when a request carries no `Origin` header, so every UI-route response has it.
public struct UIRouteCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The headers a UI extension may send.
    public static var allowedHeaders: [HTTPField.Name] {
        [.contentType, .stripeSignature, .stripeUserID, .stripeAccountID, .stripeMode]
    }

    private let pathPrefix: String
    private let cors: CORSMiddleware<Context>

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - pathPrefix: The UI routes, `/api` by default; `/api` and everything under `/api/` match.
    ///   - maxAge: How long a browser may cache a preflight.
    public init(pathPrefix: String = "/api", maxAgeSeconds: Int64 = 600) {
        self.pathPrefix = pathPrefix
        self.cors = CORSMiddleware(
            allowOrigin: .all,
            allowHeaders: Self.allowedHeaders,
            allowMethods: [.get, .post, .put, .delete, .options],
            allowCredentials: false,
            maxAge: .seconds(maxAgeSeconds)
        )
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path == pathPrefix || path.hasPrefix(pathPrefix + "/") else { return try await next(request, context) }
        if request.method == .options, !request.headers.contains(.origin) {
            // A preflight always has an Origin; answer a bare OPTIONS the same way rather than route it.
            var head = request.head
            head.headerFields[.origin] = "null"
            return try await cors.handle(Request(head: head, body: request.body), context: context, next: next)
        }
        var response = try await cors.handle(request, context: context, next: next)
        if response.headers[.accessControlAllowOrigin] == nil { response.headers[.accessControlAllowOrigin] = "*" }
        return response
    }
}
