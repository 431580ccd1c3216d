public import Logging
public import ServiceLifecycle
public import StripeApps
import Synchronization

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Reads the inbox and job counts from storage every ``interval`` and sets the gauges: a scrape never waits for
/// the database, and a slow database never holds a scrape or a request.
///
/// Each read has a time limit; a failed or late read is logged (at most once a minute) and leaves the gauges as
/// they were, and `stripe_apps_storage_statistics_timestamp_seconds` says how old they are. It starts reading
/// once ``start()`` is called (storage is migrated).
public final class StorageGauges: Service, Sendable {
    private let statistics: any StorageStatistics
    private let metrics: AppMetrics
    /// How often the counts are read.
    public let interval: Duration
    private let timeout: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let started: AsyncStream<Void>.Continuation
    private let starts: AsyncStream<Void>
    private let lastWarning = Mutex<ContinuousClock.Instant?>(nil)

    /// Creates the reader; nothing is read before ``start()``.
    public init(
        statistics: some StorageStatistics,
        metrics: AppMetrics,
        interval: Duration = .seconds(15),
        timeout: Duration = .seconds(5),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.statistics = statistics
        self.metrics = metrics
        self.interval = interval
        self.timeout = timeout
        self.now = now
        self.logger = logger
        (starts, started) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Lets the reader start: storage is migrated.
    public func start() {
        started.yield()
    }

    /// Reads every ``interval`` from ``start()`` until the application shuts down.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var iterator = self.starts.makeAsyncIterator()
            guard await iterator.next() != nil else { return }
            while !Task.isCancelled {
                await self.read()
                try await Task.sleep(for: self.interval)
            }
        }
    }

    /// Reads the counts once and sets the gauges; returns whether the read succeeded.
    @discardableResult
    public func read() async -> Bool {
        let statistics = self.statistics
        do {
            let (inbox, jobs) = try await withTimeLimit(timeout) {
                (try await statistics.inboxCounts(), try await statistics.jobCounts())
            }
            metrics.update(inbox: inbox, jobs: jobs, readAt: now())
            return true
        } catch {
            if Task.isCancelled { return false }
            let shouldLog = lastWarning.withLock { last in
                guard last.map({ .now - $0 >= .seconds(60) }) ?? true else { return false }
                last = .now
                return true
            }
            if shouldLog {
                logger.warning(
                    "the inbox and job gauges could not be read from storage; they keep their last values",
                    metadata: ["error": "\(LogRedaction.redact(String(describing: error)))"])
            }
            return false
        }
    }
}

/// The time limit of a statistics read ran out.
struct StatisticsTimedOut: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "the read took longer than \(limit)" }
}

/// Runs `body`, throwing ``StatisticsTimedOut`` if it takes longer than `limit` (the body is cancelled).
func withTimeLimit<R: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> R) async throws -> R {
    try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw StatisticsTimedOut(limit: limit) }
        return value
    }
}
