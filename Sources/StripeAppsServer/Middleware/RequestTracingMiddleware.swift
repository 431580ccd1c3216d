import HTTPTypes
public import Hummingbird
import StripeApps
import Tracing

/// Starts a server span for each request, continuing a W3C `traceparent` it carries: named after the method and
/// the route template, with the status; an answer of 500 or more marks it as an error.
///
/// Hummingbird's `TracingMiddleware` records the raw path and query string, and install callbacks carry an OAuth
/// `code`, a CSRF `state` and an `install_signature` in theirs; this one records neither, only the route template
/// (`/install/callback`), so no span holds a secret or an id from a URL. The composition root adds it only when
/// traces are configured (`OTEL_EXPORTER_OTLP_ENDPOINT`), so that it costs nothing otherwise.
public struct RequestTracingMiddleware<Context: RequestContext>: RouterMiddleware {
    private let head: (sampling: TraceSampling, coin: SamplingCoin)?

    /// Creates the middleware; spans go to the tracer bootstrapped in `InstrumentationSystem`, which decides which
    /// are kept.
    public init() {
        head = nil
    }

    /// Creates the middleware that decides itself, with `sampling`, whether a request that starts a trace (it carries
    /// no `traceparent`) is kept, before anything else is done for its trace: one left out runs with no span and
    /// no extraction, under a context marked so that nothing under it starts a span. Use it with the tracer
    /// ``HeadSampledTracer`` and the same sampling (what `serve` does), which then keeps what this kept.
    public init(sampling: TraceSampling) {
        head = (sampling, SamplingCoin())
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let current = ServiceContext.current
        var parent = current ?? .topLevel
        if let head, request.headers[.traceparent] == nil {
            guard head.sampling.admits(head.coin.next) else {
                let marked = current.map(UnsampledTrace.marking) ?? UnsampledTrace.markedTopLevel
                return try await ServiceContext.withValue(marked) { try await next(request, context) }
            }
            parent = UnsampledTrace.keeping(parent)
        } else {
            InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        }
        let method = HTTPMetricsMiddleware<Context>.label(request.method)
        return try await withSpan("\(method)", context: parent, ofKind: .server) { span in
            if span.isRecording { span.attributes["http.request.method"] = method }
            do {
                // An unsampled request starts no child span (storage, signature): none of them would be sampled.
                // (Behind `HeadSampledTracer` the span's context is marked already and this adds nothing.)
                let response = try await UnsampledTrace.mark(unless: span) { try await next(request, context) }
                Self.finish(span, method: method, route: context.endpointPath, status: Int(response.status.code))
                return response
            } catch {
                let status = Int((error as? any HTTPResponseError)?.status.code ?? 500)
                Self.finish(span, method: method, route: context.endpointPath, status: status)
                throw error
            }
        }
    }

    static func finish(_ span: any Span, method: String, route: String?, status: Int) {
        // An unsampled span (most of them at a low sampling ratio) keeps nothing: skip building its name.
        guard span.isRecording else { return }
        let route = route ?? "NotFound"
        span.operationName = "\(method) \(route)"
        span.attributes["http.route"] = route
        span.attributes["http.response.status_code"] = status
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }
}

// swift-format-ignore: NeverForceUnwrap
// A valid header token, so the failable initializer cannot fail.
extension HTTPField.Name {
    /// W3C Trace Context's `traceparent`.
    static let traceparent = Self("traceparent")!
}

/// Reads W3C trace context headers from a request's fields.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}
