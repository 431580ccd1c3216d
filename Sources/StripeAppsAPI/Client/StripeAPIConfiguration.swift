public import Tracing

/// How clients reach the Stripe API.
public struct StripeAPIConfiguration: Sendable {
    /// The API's base URL, without a trailing slash: `https://api.stripe.com`, or a fake's in tests.
    public var baseURL: String
    /// The pinned `Stripe-Version` sent with every call, so a change of the account's default version cannot
    /// change the shape of what the app reads.
    public var apiVersion: String
    /// The time-out of one attempt (retries get their own).
    public var timeout: Duration
    /// When to retry.
    public var retryPolicy: RetryPolicy
    /// The largest answer read; a bigger one fails with ``StripeAPIError/Code/invalidResponse``.
    public var maximumResponseBytes: Int
    /// The `User-Agent`.
    public var userAgent: String
    /// Told of every attempt and OAuth refresh (the server's metrics); ``StripeAPIObserver/none`` by default.
    public var observer: StripeAPIObserver
    /// Where the client span of each attempt goes; `nil` (the default) is the tracer bootstrapped in
    /// `InstrumentationSystem` when the call is made, which is a no-op unless traces are configured.
    public var tracer: (any Tracer)?

    /// The API version this package's models are written against.
    public static let defaultAPIVersion = "2025-02-24.acacia"

    /// Creates a configuration.
    public init(
        baseURL: String = "https://api.stripe.com",
        apiVersion: String = StripeAPIConfiguration.defaultAPIVersion,
        timeout: Duration = .seconds(30),
        retryPolicy: RetryPolicy = .default,
        maximumResponseBytes: Int = 16 << 20,
        userAgent: String = "stripe-apps-backend (Swift)",
        observer: StripeAPIObserver = .none,
        tracer: (any Tracer)? = nil
    ) {
        var baseURL = baseURL
        while baseURL.hasSuffix("/") { baseURL.removeLast() }
        self.baseURL = baseURL
        self.apiVersion = apiVersion
        self.timeout = timeout
        self.retryPolicy = retryPolicy
        self.maximumResponseBytes = maximumResponseBytes
        self.userAgent = userAgent
        self.observer = observer
        self.tracer = tracer
    }
}
