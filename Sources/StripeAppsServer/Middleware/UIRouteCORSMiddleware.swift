public import HTTPTypes
public import Hummingbird
import Synchronization

/// CORS for the UI-extension routes only: the extension runs in a sandboxed iframe whose origin is `null`,
/// which no allow-list can match, so these routes answer `Access-Control-Allow-Origin: *`. Their
/// authentication is the signature, never a cookie, so no credentials are allowed.
///
/// Every other route (webhooks, install, admin, health) gets no CORS header at all. The preflight and
/// header logic is Hummingbird's `CORSMiddleware`; this wrapper limits it to a path prefix, and adds the
/// `*` also when a request carries no `Origin` header, so every UI-route response has it.
///
/// A backend on a loopback or private address (a developer's machine) is called by the Dashboard, a public page,
/// across networks. Chrome 142 and later ask the user for Local Network Access permission first, which no header
/// can grant; browsers that still use the older Private Network Access send a preflight with
/// `Access-Control-Request-Private-Network: true`, which this middleware answers with
/// `Access-Control-Allow-Private-Network: true` when `allowsPrivateNetwork` is set (the server does so when it
/// listens on such an address, see ``StripeApps/LocalNetwork``), and only on a UI route's preflight that asks.
public struct UIRouteCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The headers a UI extension may send.
    public static var allowedHeaders: [HTTPField.Name] {
        [.contentType, .stripeSignature, .stripeUserID, .stripeAccountID, .stripeMode]
    }

    private let pathPrefix: String
    private let cors: CORSMiddleware<Context>
    private let allowsPrivateNetwork: Bool
    private let methods: UIRouteMethods

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - pathPrefix: The UI routes, `/api` by default; `/api` and everything under `/api/` match.
    ///   - allowedMethods: The methods a preflight is told the UI routes accept: those they are registered for.
    ///     `GET` and `POST` by default, the methods of the built-in `/api/whoami` and `/api/settings`.
    ///   - maxAgeSeconds: How long a browser may cache a preflight.
    ///   - allowsPrivateNetwork: Whether a preflight asking for a private network
    ///     (`Access-Control-Request-Private-Network: true`) is answered with
    ///     `Access-Control-Allow-Private-Network: true`. Set it only when the backend listens on a loopback or
    ///     private address.
    public init(
        pathPrefix: String = "/api", allowedMethods: [HTTPRequest.Method] = [.get, .post], maxAgeSeconds: Int64 = 600,
        allowsPrivateNetwork: Bool = false
    ) {
        self.init(
            pathPrefix: pathPrefix, methods: UIRouteMethods(allowedMethods), maxAgeSeconds: maxAgeSeconds,
            allowsPrivateNetwork: allowsPrivateNetwork)
    }

    /// The application's: `methods` is filled from the router once every route is registered (middleware is
    /// added before the routes it wraps).
    init(pathPrefix: String = "/api", methods: UIRouteMethods, maxAgeSeconds: Int64 = 600, allowsPrivateNetwork: Bool) {
        self.pathPrefix = pathPrefix
        self.allowsPrivateNetwork = allowsPrivateNetwork
        self.methods = methods
        self.cors = CORSMiddleware(
            allowOrigin: .all,
            allowHeaders: Self.allowedHeaders,
            // Replaced on every preflight by `methods`, which may change until the router is complete.
            allowMethods: [],
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
        guard UIRouteMethods.isUIRoute(path, under: pathPrefix) else { return try await next(request, context) }
        var response: Response
        if request.method == .options, !request.headers.contains(.origin) {
            // A preflight always has an Origin; answer a bare OPTIONS the same way rather than route it.
            var head = request.head
            head.headerFields[.origin] = "null"
            response = try await cors.handle(Request(head: head, body: request.body), context: context, next: next)
        } else {
            response = try await cors.handle(request, context: context, next: next)
        }
        if response.headers[.accessControlAllowOrigin] == nil { response.headers[.accessControlAllowOrigin] = "*" }
        if request.method == .options {
            response.headers[.accessControlAllowMethods] = methods.headerValue
            if allowsPrivateNetwork, request.headers[.accessControlRequestPrivateNetwork]?.lowercased() == "true" {
                response.headers[.accessControlAllowPrivateNetwork] = "true"
            }
        }
        return response
    }
}

// These names are valid header tokens, so the failable initializer cannot fail.
// swift-format-ignore: NeverForceUnwrap
extension HTTPField.Name {
    /// What a Private Network Access preflight asks: `true` when the page calls into a more private network.
    static let accessControlRequestPrivateNetwork = HTTPField.Name("Access-Control-Request-Private-Network")!
    /// The answer that lets such a call through.
    static let accessControlAllowPrivateNetwork = HTTPField.Name("Access-Control-Allow-Private-Network")!
}

/// The methods the UI routes accept, as a preflight states them: set by the application from its router, since
/// the CORS middleware exists before the routes it wraps.
final class UIRouteMethods: Sendable {
    private let value: Mutex<String>

    init(_ methods: [HTTPRequest.Method]) { value = Mutex(Self.headerValue(of: methods)) }

    /// `Access-Control-Allow-Methods`: the methods, sorted, and `OPTIONS`.
    var headerValue: String { value.withLock { $0 } }

    /// Takes the methods of every route at or under `pathPrefix`.
    func set<Context>(from router: Router<Context>, pathPrefix: String = "/api") {
        let methods = router.routes.map { route in (path: route.path.description, method: route.method) }
            .filter { Self.isUIRoute($0.path, under: pathPrefix) }.map(\.method)
        value.withLock { $0 = Self.headerValue(of: methods) }
    }

    /// Whether `path` is `pathPrefix` or under it (`/api` and `/api/…`, not `/apix`): the one rule for which
    /// requests get CORS and which routes' methods a preflight names.
    static func isUIRoute(_ path: String, under pathPrefix: String) -> Bool {
        path == pathPrefix || path.hasPrefix(pathPrefix + "/")
    }

    private static func headerValue(of methods: [HTTPRequest.Method]) -> String {
        Set((methods + [.options]).map(\.rawValue)).sorted().joined(separator: ", ")
    }
}
