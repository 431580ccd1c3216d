import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import StripeApps
import Tracing

/// Sends one call to the Stripe API with its retries; shared by every client made by one ``StripeAPI``.
struct StripeTransport: Sendable {
    let configuration: StripeAPIConfiguration
    let httpClient: HTTPClient
    let logger: Logger
    /// Waits between attempts; tests record the waits instead.
    let sleep: @Sendable (Duration) async throws -> Void
    /// A random number in `0…1` for the backoff jitter.
    let jitter: @Sendable () -> Double

    /// One call as the client describes it.
    struct Call: Sendable {
        var method: HTTPMethod
        var path: String
        var parameters: FormParameters
        var authorization: String
        var stripeAccount: String?
        var idempotencyKey: IdempotencyKey?
    }

    func send(_ call: Call) async throws -> StripeResponse {
        let policy = configuration.retryPolicy
        // Built once: every attempt sends the same bytes, idempotency key included.
        let request = makeRequest(call)
        var retry = 0
        while true {
            let outcome: Outcome
            let started = ContinuousClock.now
            do {
                // A client span per attempt (a no-op unless traces are configured), its retry number attached.
                let tracer = configuration.tracer ?? InstrumentationSystem.tracer
                outcome = try await tracer.withSpan("stripe.api \(call.method.rawValue)", ofKind: .client) { span in
                    span.attributes["http.request.method"] = call.method.rawValue
                    span.attributes["stripe_apps.retry"] = retry
                    let outcome = try await attempt(request)
                    if let status = outcome.status { span.attributes["http.response.status_code"] = status }
                    if case .retry = outcome { span.addEvent("retry scheduled") }
                    return outcome
                }
            } catch let error as StripeAPIError where error.code == .connection || error.code == .timeout {
                outcome = .retry(error, retryAfter: nil)
            } catch {
                observe(call, status: nil, retry: retry, since: started)
                throw error
            }
            observe(call, status: outcome.status, retry: retry, since: started)
            switch outcome {
            case .success(let response):
                return response
            case .failure(let error):
                throw error
            case .retry(let error, let retryAfter):
                guard retry < policy.maximumRetries else { throw error }
                let delay = policy.delay(beforeRetry: retry, retryAfter: retryAfter, jitter: jitter())
                logger.notice(
                    "Retrying a Stripe API call",
                    metadata: [
                        "stripe.method": "\(call.method.rawValue)", "stripe.path": "\(call.path)",
                        "stripe.account": "\(call.stripeAccount ?? "-")", "stripe.error": "\(error.code)",
                        "stripe.status": "\(error.httpStatus.map(String.init) ?? "-")",
                        "stripe.request_id": "\(error.requestID ?? "-")", "retry": "\(retry + 1)",
                        "delay_ms":
                            "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                    ]
                )
                try await sleep(delay)
                retry += 1
            }
        }
    }

    private enum Outcome {
        case success(StripeResponse)
        case failure(StripeAPIError)
        case retry(StripeAPIError, retryAfter: Duration?)

        /// The HTTP status of the answer, if one came.
        var status: Int? {
            switch self {
            case .success(let response): response.status
            case .failure(let error), .retry(let error, _): error.httpStatus
            }
        }
    }

    private func observe(_ call: Call, status: Int?, retry: Int, since started: ContinuousClock.Instant) {
        configuration.observer.attemptEnded(
            StripeAPIAttempt(
                method: call.method.rawValue, status: status, retry: retry, duration: .now - started))
    }

    private func makeRequest(_ call: Call) -> HTTPClientRequest {
        var url = configuration.baseURL + call.path
        let form = call.parameters.encoded
        var request: HTTPClientRequest
        if call.method == .POST {
            request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
        } else {
            if !form.isEmpty { url += "?" + form }
            request = HTTPClientRequest(url: url)
            request.method = call.method
        }
        request.headers.add(name: "Authorization", value: call.authorization)
        request.headers.add(name: "Stripe-Version", value: configuration.apiVersion)
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        request.headers.add(name: "Accept", value: "application/json")
        if let account = call.stripeAccount { request.headers.add(name: "Stripe-Account", value: account) }
        if let key = call.idempotencyKey { request.headers.add(name: "Idempotency-Key", value: key.rawValue) }
        return request
    }

    private func attempt(_ request: HTTPClientRequest) async throws -> Outcome {
        let answer = try await HTTPExchange.perform(
            request,
            on: httpClient,
            timeout: configuration.timeout,
            maximumBytes: configuration.maximumResponseBytes,
            service: "the Stripe API"
        )
        let status = Int(answer.status.code)
        let headers = answer.headers
        let body = Array(answer.body.readableBytesView)
        let requestID = headers.first(name: "Request-Id")
        if (200..<300).contains(status) {
            return .success(
                StripeResponse(
                    status: status,
                    requestID: requestID,
                    isIdempotentReplay: headers.first(name: "Idempotent-Replayed") == "true",
                    body: body
                )
            )
        }
        let error = ErrorBody.decode(status: status, body: body, requestID: requestID)
        guard RetryPolicy.isRetryable(status: status, shouldRetryHeader: headers.first(name: "Stripe-Should-Retry"))
        else { return .failure(error) }
        let retryAfter = headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
        return .retry(error, retryAfter: retryAfter)
    }
}
