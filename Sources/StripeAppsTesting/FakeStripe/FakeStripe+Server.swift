public import Foundation
public import Hummingbird
import Logging
import NIOCore

extension FakeStripe {
    /// A router that sends every request, whatever its method and path, to this fake.
    ///
    /// Mount it in an application of your own; with ``FakeStripeRequestContext`` (the default)
    /// ``Fault/dropConnection`` closes the connection before any byte of the response, with other contexts only
    /// after the response head.
    public func buildRouter<Context: RequestContext>(
        context: Context.Type = FakeStripeRequestContext.self
    ) -> Router<Context> {
        let router = Router(context: Context.self)
        router.add(middleware: FakeStripeMiddleware(stripe: self))
        return router
    }

    /// A Hummingbird application serving this fake on `host`:`port`; port 0 picks a free port, which
    /// `onServerRunning` reports.
    public func buildApplication(
        host: String = "127.0.0.1",
        port: Int = 0,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: buildRouter(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: Self.logger
        )
    }

    /// Serves this fake on `host`:`port` until the calling task is cancelled.
    public func run(
        host: String = "127.0.0.1",
        port: Int = 0,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) async throws {
        try await buildApplication(host: host, port: port, onServerRunning: onServerRunning).run()
    }

    /// Serves this fake on 127.0.0.1 at a free port while `body` runs with its base URL, such as
    /// `http://127.0.0.1:54321`, then shuts the server down gracefully, whether `body` returns or throws.
    public func withServer<T: Sendable>(_ body: (URL) async throws -> T) async throws -> T {
        try await withServedApplication(
            name: "The fake Stripe server", logger: Self.logger,
            { onServerRunning in
                buildApplication(onServerRunning: onServerRunning)
            }, body)
    }

    private static var logger: Logger {
        var logger = Logger(label: "FakeStripe")
        logger.logLevel = .warning
        return logger
    }
}

/// Sends every request to a ``FakeStripe``; nothing reaches the router's routes.
private struct FakeStripeMiddleware<Context: RequestContext>: RouterMiddleware {
    let stripe: FakeStripe

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        await stripe.respond(to: request, context: context)
    }
}
