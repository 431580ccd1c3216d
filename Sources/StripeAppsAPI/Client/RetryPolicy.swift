/// When and how long a client waits before retrying a call.
///
/// A call is retried when Stripe answers `Stripe-Should-Retry: true`, 429 (rate limits and `lock_timeout`
/// lock contention) or 5xx, or when no answer came (a connection error or time-out). It is never retried on
/// another 4xx, nor when Stripe answers `Stripe-Should-Retry: false`. POSTs keep their idempotency key across
/// retries, so a retry never creates twice.
///
/// The wait before retry `n` (0-based) is `min(initialDelay × 2ⁿ, maximumDelay)`, scaled by a random factor in
/// `0.5…1` (jitter, so clients that failed together do not retry together), or Stripe's `Retry-After` when it
/// sends one, capped at `maximumDelay`.
public struct RetryPolicy: Sendable, Hashable {
    /// How many times a call is retried after the first attempt; 0 turns retries off.
    public var maximumRetries: Int
    /// The base of the exponential backoff.
    public var initialDelay: Duration
    /// The longest wait between two attempts.
    public var maximumDelay: Duration

    /// Creates a policy.
    public init(
        maximumRetries: Int = 3, initialDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(8)
    ) {
        self.maximumRetries = max(0, maximumRetries)
        self.initialDelay = initialDelay
        self.maximumDelay = max(initialDelay, maximumDelay)
    }

    /// The default: 3 retries, 0.5 s doubling up to 8 s.
    public static let `default` = RetryPolicy()

    /// No retries.
    public static let none = RetryPolicy(maximumRetries: 0)

    /// The wait before retry `retry` (0-based); `jitter` is in `0…1` (random in production).
    public func delay(beforeRetry retry: Int, retryAfter: Duration? = nil, jitter: Double) -> Duration {
        if let retryAfter {
            return min(max(retryAfter, .zero), maximumDelay)
        }
        let doublings = min(retry, 30)
        let exponential = min(initialDelay * (1 << doublings), maximumDelay)
        return exponential * (0.5 + 0.5 * min(max(jitter, 0), 1))
    }

    /// Whether an answer with this status and `Stripe-Should-Retry` header value may be retried.
    public static func isRetryable(status: Int, shouldRetryHeader: String?) -> Bool {
        switch shouldRetryHeader {
        case "true": return true
        case "false": return false
        default: return status == 429 || status >= 500
        }
    }
}
