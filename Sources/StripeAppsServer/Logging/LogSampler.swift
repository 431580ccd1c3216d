public import Logging
import Synchronization

/// Lets at most a burst of lines of one kind through per window and counts the rest, so that anonymous traffic
/// (bad signatures, stray install callbacks) cannot flood the log.
///
/// A kind is a message and an error code. The first line of a kind after a window in which lines were dropped
/// says how many with `log.suppressed`. Kinds come from the server's own fixed messages and codes, so the table
/// stays small.
public final class LogSampler: Sendable {
    private struct Kind: Hashable {
        let message: String
        let code: String
    }

    private struct Window {
        var start: ContinuousClock.Instant
        var written = 0
        var suppressed = 0
    }

    private let burst: Int
    private let window: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let windows = Mutex<[Kind: Window]>([:])

    /// Creates a sampler that writes at most `burst` lines of one kind per `window` (10 per 10 s by default).
    public init(
        burst: Int = 10, window: Duration = .seconds(10),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.burst = burst
        self.window = window
        self.now = now
    }

    /// Logs `message` with `metadata` and `error.code` = `code` at `level`, unless this kind already wrote its
    /// burst in the current window.
    public func log(
        _ logger: Logger, _ level: Logger.Level, _ message: String, code: String, metadata: Logger.Metadata = [:]
    ) {
        guard logger.logLevel <= level else { return }
        let kind = Kind(message: message, code: code)
        let instant = now()
        let suppressedBefore: Int? = windows.withLock { windows in
            var current = windows[kind] ?? Window(start: instant)
            var carried = 0
            if instant - current.start >= window {
                carried = current.suppressed
                current = Window(start: instant)
            }
            defer { windows[kind] = current }
            guard current.written < burst else {
                current.suppressed += 1
                return nil
            }
            current.written += 1
            return carried
        }
        guard let suppressedBefore else { return }
        var metadata = metadata
        metadata["error.code"] = .string(code)
        if suppressedBefore > 0 { metadata["log.suppressed"] = "\(suppressedBefore)" }
        logger.log(level: level, "\(message)", metadata: metadata)
    }
}
