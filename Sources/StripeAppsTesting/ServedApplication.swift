import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Serves the application `make` builds on 127.0.0.1 while `body` runs with its base URL (such as
/// `http://127.0.0.1:54321`), then shuts it down gracefully, whether `body` returns or throws: the server of
/// ``FakeStripe/withServer(_:)`` and ``FakeHTTPService/withServer(_:)``.
///
/// - Parameters:
///   - make: Builds the application, which must call the closure it is given with its port once it listens.
///   - name: What the server is, for the error when it stops before it listens (`The fake Stripe server`).
func withServedApplication<T: Sendable>(
    name: String, logger: Logger,
    _ make: (_ onServerRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol,
    _ body: (URL) async throws -> T
) async throws -> T {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let application = make { portContinuation.yield($0) }
    let group = ServiceGroup(services: [application], gracefulShutdownSignals: [], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            defer { portContinuation.finish() }
            try await group.run()
        }
        guard let port = await ports.first(where: { _ in true }) else {
            try await tasks.waitForAll()
            throw FakeStripeServerError(message: "\(name) stopped before it started listening.")
        }
        let outcome: Result<T, any Error>
        if let url = URL(string: "http://127.0.0.1:\(port)") {
            do {
                outcome = .success(try await body(url))
            } catch {
                outcome = .failure(error)
            }
        } else {
            outcome = .failure(FakeStripeServerError(message: "No URL for port \(port)."))
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return try outcome.get()
    }
}
