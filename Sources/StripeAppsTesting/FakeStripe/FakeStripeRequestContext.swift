public import Hummingbird
public import NIOCore

/// The request context of ``FakeStripe``'s own application: Hummingbird's core storage plus the connection.
///
/// The fake needs the connection to honour ``FakeStripe/Fault/dropConnection``: it closes the channel before
/// any byte of a response is written. Routers built for other contexts drop the connection after the
/// response head instead (see ``FakeStripe/buildRouter(context:)``).
public struct FakeStripeRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    public let channel: any Channel

    /// Creates the context for a request arriving on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
