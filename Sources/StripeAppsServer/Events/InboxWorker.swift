public import Foundation
public import Logging
public import ServiceLifecycle
public import StripeApps
import Synchronization

/// Runs the handlers of stored events, with retries and dead letters.
///
/// A failed event is retried after an exponential backoff with jitter (`baseDelay × 2^(attempt−1)`, ±20 %,
/// at most `maximumDelay`); after `maximumAttempts` runs it is dead until someone replays it. As a `Service`,
/// it stops with the application and never leaves an event half-recorded: the status is written after the
/// handlers ran, so an event interrupted by a crash simply runs again (handlers are idempotent).
public final class InboxWorker: Service, Sendable {
    /// How retries are spaced.
    public struct RetryPolicy: Sendable {
        /// Runs before an event is dead.
        public var maximumAttempts: Int
        /// The delay before the first retry.
        public var baseDelay: TimeInterval
        /// The longest delay.
        public var maximumDelay: TimeInterval

        /// Eight runs, starting 2 s apart, at most an hour apart.
        public static let `default` = RetryPolicy(maximumAttempts: 8, baseDelay: 2, maximumDelay: 3600)

        /// Creates a policy.
        public init(maximumAttempts: Int, baseDelay: TimeInterval, maximumDelay: TimeInterval) {
            self.maximumAttempts = maximumAttempts
            self.baseDelay = baseDelay
            self.maximumDelay = maximumDelay
        }

        /// The delay before the run after `attempts` runs, with ±20 % jitter.
        public func delay(afterAttempts attempts: Int) -> TimeInterval {
            let exponential = baseDelay * pow(2, Double(max(0, attempts - 1)))
            return min(maximumDelay, exponential) * Double.random(in: 0.8...1.2)
        }
    }

    private let store: any AppStore
    private let handlers: EventHandlers
    private let policy: RetryPolicy
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    /// Creates a worker.
    public init(
        store: some AppStore,
        handlers: EventHandlers,
        policy: RetryPolicy = .default,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "stripe-apps-backend.inbox")
    ) {
        self.store = store
        self.handlers = handlers
        self.policy = policy
        self.now = now
        self.logger = logger
        (wakeUps, wakeUp) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the worker to look at the inbox now (the webhook endpoint calls it after storing an event).
    public func notify() {
        wakeUp.yield()
    }

    /// Runs until the application shuts down: processes due events whenever notified, and every second for retries.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [wakeUp] in
                    // Retries become due with time, not with a delivery: a tick every second finds them.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        wakeUp.yield()
                    }
                }
                for await _ in wakeUps {
                    if Task.isCancelled { break }
                    do {
                        while try await processDueEvents() > 0 {}
                    } catch {
                        logger.error("inbox unavailable", metadata: ["error.type": "\(type(of: error))"])
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: { [wakeUp] in
            wakeUp.finish()
        }
    }

    /// Runs the handlers of every event that is due now, one after the other; returns how many ran.
    @discardableResult
    public func processDueEvents(limit: Int = 100) async throws -> Int {
        let due = try await store.dueEvents(now: now(), limit: limit)
        for event in due { try await process(event) }
        return due.count
    }

    private func process(_ stored: InboxEvent) async throws {
        var logger = self.logger
        logger[metadataKey: "stripe.event"] = .string(stored.id)
        logger[metadataKey: "stripe.event.type"] = .string(stored.type)
        let event: AppEvent
        do {
            event = try AppEvent(json: Array(stored.payload.utf8))
        } catch {
            // Verified and decoded once already; if it cannot be read now, retrying will not help.
            try await store.markEventFailed(
                id: stored.id, error: "The stored event cannot be decoded.", nextAttemptAt: nil)
            return
        }
        if let tenant = event.tenant { logger[metadataKey: "stripe.account"] = .string(tenant.description) }
        let context = EventContext(event: event, tenant: event.tenant, logger: logger)
        do {
            for handler in handlers.handlers(for: event.type) { try await handler(context) }
            try await store.markEventSucceeded(id: stored.id)
            logger.info("event processed", metadata: ["inbox.attempts": "\(stored.attempts + 1)"])
        } catch let error where !(error is CancellationError) {
            let attempts = stored.attempts + 1
            let retryAt =
                attempts >= policy.maximumAttempts
                ? nil : now().addingTimeInterval(policy.delay(afterAttempts: attempts))
            try await store.markEventFailed(id: stored.id, error: String(describing: error), nextAttemptAt: retryAt)
            logger.warning(
                retryAt == nil ? "event handler failed; no retries left (dead)" : "event handler failed; will retry",
                metadata: ["inbox.attempts": "\(attempts)", "error.type": "\(type(of: error))"]
            )
        }
    }
}
