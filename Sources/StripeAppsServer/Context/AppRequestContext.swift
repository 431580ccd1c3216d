public import Hummingbird
public import NIOCore

/// The request context of every route: Hummingbird's core storage plus the verified user, once known.
///
/// Only ``StripeSignatureMiddleware`` sets ``verifiedUser``. Handlers that need it run in a
/// ``VerifiedRequestContext``, which cannot be created without it.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The verified caller of a signed UI route; `nil` until the signature middleware accepted the request.
    public internal(set) var verifiedUser: VerifiedUser?
    /// The admin session of an `/admin` request, once ``AdminSessionMiddleware`` checked its cookie.
    var adminSession: AdminSession?
    /// The posted form of an `/admin` action, once its CSRF token was checked.
    var adminForm = AdminForm()
    /// The peer of the connection (a reverse proxy, when there is one: see `CLIENT_ADDRESS_HEADER`).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.verifiedUser = nil
        self.adminSession = nil
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// The context of handlers behind ``StripeSignatureMiddleware``: ``user`` is always there.
public struct VerifiedRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller, from the verified payload only.
    public let user: VerifiedUser

    /// Narrows an ``AppRequestContext``; throws 401 when no signature was verified, so a route mounted in the
    /// wrong place fails closed.
    public init(context: AppRequestContext) throws {
        guard let user = context.verifiedUser else {
            throw APIError(.unauthorized, code: "missing_header", message: "This route needs a Stripe-Signature.")
        }
        self.coreContext = context.coreContext
        self.user = user
    }
}
