import StripeApps

extension FakeStripe {
    /// A failure to inject into the next matching request, before it executes; see
    /// ``FakeStripe/injectFault(_:count:path:method:)``.
    ///
    /// Faulted requests never execute and are never saved for `Idempotency-Key` replays, so a retry with the same
    /// key runs for real. Statuses outside 100…599 become 500.
    public struct Fault: Sendable, CustomStringConvertible {
        enum Action: Sendable {
            case respond(FakeStripeError)
            case delay(Duration)
            case drop
        }

        let action: Action
        /// A short description, such as `rateLimited(lock_timeout)`.
        public let description: String

        /// 429 `{"error":{"type":"invalid_request_error","code":code,…}}`: `rate_limit` is Stripe's rate
        /// limiter, `lock_timeout` its object-lock contention. `retryAfter` adds a `Retry-After` header.
        public static func rateLimited(code: String = "rate_limit", retryAfter seconds: Int? = nil) -> Fault {
            let message =
                code == "lock_timeout"
                ? "This object cannot be accessed right now because another API request or Stripe process is "
                    + "currently accessing it. If you see this error intermittently, retry the request."
                : "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
            var error = FakeStripeError.api(status: 429, type: "invalid_request_error", code: code, message: message)
            if let seconds { error.headers.append((name: "Retry-After", value: String(seconds))) }
            return Fault(action: .respond(error), description: "rateLimited(\(code))")
        }

        /// 500 `api_error`, without a `Stripe-Should-Retry` header.
        public static func serverError() -> Fault {
            Fault(action: .respond(error(status: 500)), description: "serverError")
        }

        /// `status` with `Stripe-Should-Retry: true`: Stripe says a retry may succeed.
        public static func shouldRetry(status: Int) -> Fault {
            var error = error(status: status)
            error.headers.append((name: "Stripe-Should-Retry", value: "true"))
            return Fault(action: .respond(error), description: "shouldRetry(\(error.status))")
        }

        /// `status` with `Stripe-Should-Retry: false`: Stripe says a retry will not succeed.
        public static func shouldNotRetry(status: Int) -> Fault {
            var error = error(status: status)
            error.headers.append((name: "Stripe-Should-Retry", value: "false"))
            return Fault(action: .respond(error), description: "shouldNotRetry(\(error.status))")
        }

        /// Any Stripe error, such as a 402 `card_error` or a 409 idempotency conflict.
        public static func error(
            status: Int,
            type: String,
            code: String? = nil,
            message: String,
            param: String? = nil
        ) -> Fault {
            let error = FakeStripeError.api(
                status: clamped(status),
                type: type,
                code: code,
                message: message,
                param: param
            )
            return Fault(action: .respond(error), description: "error(\(error.status), \(type))")
        }

        /// Waits `delay` (real time), then handles the request normally.
        public static func slow(_ delay: Duration) -> Fault {
            Fault(action: .delay(delay), description: "slow(\(delay))")
        }

        /// Closes the connection without a complete response: the client sees a connection error, never a status.
        public static let dropConnection = Fault(action: .drop, description: "dropConnection")

        private static func clamped(_ status: Int) -> Int {
            (100...599).contains(status) ? status : 500
        }

        private static func error(status: Int) -> FakeStripeError {
            let status = clamped(status)
            let type =
                switch status {
                case 500...: "api_error"
                case 402: "card_error"
                case 409: "idempotency_error"
                default: "invalid_request_error"
                }
            let message =
                status >= 500
                ? "An unknown error occurred (FakeStripe injected a \(status) response)."
                : "FakeStripe injected a \(status) response."
            return .api(status: status, type: type, message: message)
        }
    }
}
