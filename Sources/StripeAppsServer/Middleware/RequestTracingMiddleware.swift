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
    private let keptTracer: OTLPTracer?

    /// Creates the middleware; spans go to the tracer bootstrapped in `InstrumentationSystem`, which decides which
    /// are kept.
    public init() {
        head = nil
        keptTracer = nil
    }

    /// Creates the middleware that decides itself, with `sampling`, whether a request that starts a trace (it carries
    /// no `traceparent`) is kept, before anything else is done for its trace: one left out runs with no span and
    /// no extraction, under a context marked so that nothing under it starts a span. Use it with the tracer
    /// ``HeadSampledTracer`` and the same sampling (what `serve` does), which then keeps what this kept.
    ///
    /// - Parameter tracer: The tracer that records the requests this keeps, and the backend's own spans under them
    ///   (storage calls, the signature check), started with it directly rather than through the bootstrapped
    ///   tracer, which costs less (`serve` gives the ``OTLPTracer`` it bootstrapped behind ``HeadSampledTracer``).
    ///   Without it, kept requests go to the bootstrapped tracer too.
    public init(sampling: TraceSampling, tracer: OTLPTracer? = nil) {
        head = (sampling, SamplingCoin())
        keptTracer = tracer
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
            if let keptTracer {
                // Kept: its span, and its children's, go straight to the tracer that records them.
                return try await kept(request, context: context, tracer: keptTracer, parent: parent, next: next)
            }
            parent = UnsampledTrace.keeping(parent)
        } else {
            InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        }
        return try await traced(
            request, context: context, tracer: InstrumentationSystem.tracer, parent: parent, next: next)
    }

    /// Runs a request kept by the head sampler in a server span of our own tracer, which its child spans use too
    /// (``ChildSpan``): what ``traced(_:context:tracer:parent:next:)`` does, in the tracer's code.
    private func kept(
        _ request: Request, context: Context, tracer: OTLPTracer, parent: ServiceContext,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let method = HTTPMetricsMiddleware<Context>.label(request.method)
        let span = tracer.span(method, kind: .server, in: ChildSpan.carrying(tracer, in: parent))
        defer { span.end() }
        do {
            return try await Self.answering(span, method: method, context: context) {
                try await ServiceContext.withValue(span.context) { try await next(request, context) }
            }
        } catch {
            // What `withSpan` does with an error, in the other path.
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// Runs the request in a server span of `tracer`, started in `parent`.
    private func traced<T: Tracer>(
        _ request: Request, context: Context, tracer: T, parent: ServiceContext,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let method = HTTPMetricsMiddleware<Context>.label(request.method)
        return try await tracer.withSpan(method, context: parent, ofKind: .server) { span in
            try await Self.answering(span, method: method, context: context) {
                // An unsampled request starts no child span (storage, signature): none of them would be sampled.
                // (Behind `HeadSampledTracer` the span's context is marked already and this adds nothing.)
                try await UnsampledTrace.mark(unless: span) { try await next(request, context) }
            }
        }
    }

    /// Runs `respond` and records on `span` the route and the status it answered, or the status of the error it
    /// threw (500 for one that is not an HTTP error).
    private static func answering(
        _ span: some Span, method: String, context: Context, _ respond: () async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await respond()
            finish(span, method: method, route: context.endpointPath, status: Int(response.status.code))
            return response
        } catch {
            let status = Int((error as? any HTTPResponseError)?.status.code ?? 500)
            finish(span, method: method, route: context.endpointPath, status: status)
            throw error
        }
    }

    static func finish(_ span: some Span, method: String, route: String?, status: Int) {
        // An unsampled span (most of them at a low sampling ratio) keeps nothing: skip building its name.
        guard span.isRecording else { return }
        let route = route ?? "NotFound"
        span.operationName = "\(method) \(route)"
        // Our own span takes them under one lock, in place (the protocol's `updateAttributes` copies them).
        let update: (inout SpanAttributes) -> Void = { attributes in
            attributes.set("http.request.method", value: .string(method))
            attributes.set("http.route", value: .string(route))
            attributes.set("http.response.status_code", value: .int64(Int64(status)))
        }
        if let span = span as? OTLPSpan { span.updateAttributes(update) } else { span.updateAttributes(update) }
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
