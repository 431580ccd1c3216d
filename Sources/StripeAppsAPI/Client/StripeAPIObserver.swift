/// What a ``StripeAPI`` reports as it works: each attempt of a call and each OAuth refresh; for metrics.
///
/// Called on the task that made the call, right after the attempt; keep the closures short and non-blocking
/// (increment a counter). Nothing it receives holds a key, a token, an account id or a path with ids in it.
///
/// ```swift
/// var configuration = StripeAPIConfiguration()
/// configuration.observer = StripeAPIObserver(attemptEnded: { attempt in
///     print(attempt.method, attempt.status ?? 0, attempt.retry, attempt.duration)
/// })
/// ```
public struct StripeAPIObserver: Sendable {
    /// Called once per attempt, retries included, when its answer (or its failure) is known.
    public var attemptEnded: @Sendable (StripeAPIAttempt) -> Void
    /// Called once per OAuth token refresh this process performed, with whether it succeeded (a caller that joined
    /// a refresh already running does not count again).
    public var oauthRefreshEnded: @Sendable (_ succeeded: Bool) -> Void

    /// Creates an observer; each closure defaults to doing nothing.
    public init(
        attemptEnded: @escaping @Sendable (StripeAPIAttempt) -> Void = { _ in },
        oauthRefreshEnded: @escaping @Sendable (_ succeeded: Bool) -> Void = { _ in }
    ) {
        self.attemptEnded = attemptEnded
        self.oauthRefreshEnded = oauthRefreshEnded
    }

    /// Observes nothing.
    public static let none = StripeAPIObserver()
}

/// One attempt of a Stripe API call, as ``StripeAPIObserver`` sees it.
public struct StripeAPIAttempt: Sendable, Hashable {
    /// The HTTP method: `GET`, `POST` or `DELETE`.
    public var method: String
    /// The HTTP status of the answer; `nil` when none came (the connection failed or the attempt timed out).
    public var status: Int?
    /// `0` for the first attempt of a call, `1` for its first retry, and so on.
    public var retry: Int
    /// How long the attempt took, from sending to the whole answer read.
    public var duration: Duration

    /// Creates an attempt record.
    public init(method: String, status: Int?, retry: Int, duration: Duration) {
        self.method = method
        self.status = status
        self.retry = retry
        self.duration = duration
    }
}
