import Foundation
import Logging
import StripeApps
import StripeAppsAPI
import StripeAppsTesting
import Synchronization

/// A running ``FakeStripe`` and a ``StripeAPI`` pointed at it, whose retry waits are recorded instead of slept.
struct FakeStripeHarness: Sendable {
    let fake: FakeStripe
    let clock: FakeClock
    let api: StripeAPI
    let waits: Recorder<Duration>
    let logs: Recorder<String>
    /// What the API's observer was told: every attempt, and every OAuth refresh's success.
    let attempts: Recorder<StripeAPIAttempt>
    let refreshes: Recorder<Bool>

    static let accountA = "acct_1TenantAAAAAAAA"
    static let accountB = "acct_1TenantBBBBBBBB"
    static let tenantA = Tenant(accountID: accountA, mode: .test)
    static let tenantB = Tenant(accountID: accountB, mode: .test)

    /// Runs `body` against a fresh fake with accounts A and B connected.
    ///
    /// - Parameter timeout: The client's time-out per attempt: long by default, so that a healthy attempt never
    ///   times out on a machine the rest of the suite keeps busy (a full run on two cores has stalled a test for
    ///   more than 10 s); tests of time-outs pass their own.
    static func run(
        retryPolicy: RetryPolicy = RetryPolicy(maximumRetries: 3),
        timeout: Duration = .seconds(60),
        _ body: @Sendable (FakeStripeHarness) async throws -> Void
    ) async throws {
        let clock = FakeClock()
        let fake = FakeStripe(now: clock.provider)
        fake.addAccount(accountA)
        fake.addAccount(accountB)
        try await fake.withServer { url in
            let waits = Recorder<Duration>()
            let logs = Recorder<String>()
            let attempts = Recorder<StripeAPIAttempt>()
            let refreshes = Recorder<Bool>()
            var logger = Logger(label: "test") { _ in RecordingLogHandler(lines: logs) }
            logger.logLevel = .trace
            let api = try StripeAPI(
                configuration: StripeAPIConfiguration(
                    baseURL: url.absoluteString,
                    timeout: timeout,
                    retryPolicy: retryPolicy,
                    observer: StripeAPIObserver(
                        attemptEnded: { attempts.append($0) }, oauthRefreshEnded: { refreshes.append($0) })
                ),
                secretKeys: [
                    APICredential(secretKey: fake.testSecretKey), APICredential(secretKey: fake.liveSecretKey),
                ],
                logger: logger,
                sleep: { waits.append($0) },
                jitter: { 1 }
            )
            try await body(
                FakeStripeHarness(
                    fake: fake, clock: clock, api: api, waits: waits, logs: logs, attempts: attempts,
                    refreshes: refreshes))
        }
    }
}

/// A thread-safe list of what happened.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

/// Writes every log line, metadata included, into a ``Recorder``.
struct RecordingLogHandler: LogHandler {
    let lines: Recorder<String>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.append("\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })")
    }
}
