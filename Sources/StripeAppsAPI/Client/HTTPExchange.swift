import AsyncHTTPClient
import NIOCore
import NIOHTTP1

extension HTTPClient {
    /// The client the Stripe API client and ``ExternalAPIClient`` use unless given one: `HTTPClient.shared`'s
    /// configuration, with AsyncHTTPClient's own tracing off.
    ///
    /// Why: both record a client span of their own for each call and send its `traceparent`. `HTTPClient.shared`
    /// traces with the tracer bootstrapped when it is first used (`serve` bootstraps one when traces are on), so it
    /// would add a second span per call, holding the full URL and its query string (which can carry ids or an API
    /// key), and a second `traceparent` header, which W3C Trace Context makes the receiver discard with the first.
    static let untraced: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// One HTTP request and its whole (size-limited) answer, with transport failures mapped to ``StripeAPIError``
/// codes whose messages name the service but never a header, a credential or data.
enum HTTPExchange {
    struct Answer {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: ByteBuffer
    }

    static func perform(
        _ request: HTTPClientRequest,
        on httpClient: HTTPClient,
        timeout: Duration,
        maximumBytes: Int,
        service: String
    ) async throws -> Answer {
        do {
            let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
            let body = try await response.body.collect(upTo: maximumBytes)
            return Answer(status: response.status, headers: response.headers, body: body)
        } catch is NIOTooManyBytesError {
            throw StripeAPIError(.invalidResponse, message: "The answer of \(service) is larger than the limit.")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw StripeAPIError(.timeout, message: "No answer from \(service) within the time-out.")
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPClientError {
            // HTTPClientError descriptions are fixed texts such as `remoteConnectionClosed`.
            throw StripeAPIError(.connection, message: "The connection to \(service) failed (\(error)).")
        } catch {
            throw StripeAPIError(.connection, message: "The connection to \(service) failed (\(type(of: error))).")
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
