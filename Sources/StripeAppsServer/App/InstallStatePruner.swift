public import Foundation
public import Logging
public import ServiceLifecycle
public import StripeApps
import Synchronization

/// Deletes expired install-link states on a timer, once storage is ready, until the application stops.
///
/// The callback already drops expired states when it consumes one; without callbacks, states of install links
/// nobody finished (every anonymous `GET /install` stores one) would stay until then.
public final class InstallStatePruner: Service, Sendable {
    private let states: any InstallStateStore
    private let interval: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let ready = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    /// Creates a pruner that runs every `interval` (5 minutes by default) once ``start()`` was called.
    public init(
        states: some InstallStateStore, interval: Duration = .seconds(300),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.states = states
        self.interval = interval
        self.now = now
        self.logger = logger
    }

    /// Lets the pruner run: storage is migrated.
    public func start() {
        ready.continuation.yield()
    }

    /// Waits for ``start()``, then prunes every interval until the application stops (gracefully or not).
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.prune() }
    }

    private func prune() async {
        for await _ in ready.stream { break }
        guard !Task.isCancelled else { return }
        repeat {
            do {
                let deleted = try await states.deleteExpired(now: now())
                if deleted > 0 {
                    logger.info("deleted expired install states", metadata: ["install.states": "\(deleted)"])
                }
            } catch {
                logger.warning("deleting expired install states failed", metadata: ["error.type": "\(type(of: error))"])
            }
        } while (try? await Task.sleep(for: interval)) != nil
    }
}
