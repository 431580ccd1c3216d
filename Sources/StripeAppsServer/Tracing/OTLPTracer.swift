import StripeApps
import Synchronization
public import Tracing
import W3CTraceContext

/// An OpenTelemetry tracer that records every span it starts and hands each one, once ended, to an
/// ``OTLPExporter``, which sends them in batches over OTLP/HTTP. It propagates W3C Trace Context (`traceparent`,
/// `tracestate`).
///
/// Which traces are kept is decided in front of it, by ``HeadSampledTracer``: every span that reaches this tracer is
/// sampled, and its children are too.
///
/// Why the backend has its own tracer rather than swift-otel's (which it used before): with swift-otel 1.6 a kept
/// request cost about as much CPU again as the request itself, and tracing 10% of requests took 14–15% of the
/// throughput (BENCHMARKS.md, traces), against a goal of 10%. The cost was inside swift-otel: every span start and end
/// went through an `AsyncStream` to the tracer's task and on to the batch processor's actor, every started span was
/// kept in a locked map, and every id was one `getrandom` call. swift-otel exposes no span processor, exporter or id
/// generator to replace those parts. Here a span is one object with a lock; ending it appends it to the exporter's
/// buffer under one lock, and only a full batch or the exporter's timer wakes a task.
///
/// Given to ``RequestTracingMiddleware/init(sampling:tracer:)`` (what `serve` does), it records the requests the
/// middleware keeps, and the backend's own spans under them, in its own code rather than through
/// swift-distributed-tracing's generic `withSpan`.
public struct OTLPTracer: Tracer {
    private let exporter: OTLPExporter
    private let ids: RandomIDs

    /// A tracer whose spans `exporter` sends.
    public init(exporter: OTLPExporter) {
        self.exporter = exporter
        self.ids = RandomIDs()
    }

    /// Starts a span: a child of the span context `context` carries (in the same trace), or the root of a new trace.
    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> OTLPSpan {
        span(operationName, kind: kind, in: context(), start: instant().nanosecondsSinceEpoch)
    }

    /// A span started now or at `start`: a child of the span context `context` carries, or the root of a new trace.
    func span(
        _ operationName: String, kind: SpanKind, attributes: SpanAttributes = [:], in parentContext: ServiceContext,
        start: UInt64 = DefaultTracerClock.now.nanosecondsSinceEpoch
    ) -> OTLPSpan {
        let parent = SpanContext.of(parentContext)
        let traceContext = TraceContext(
            traceID: parent?.traceID ?? ids.traceID(), spanID: ids.spanID(), flags: .sampled,
            state: parent?.traceContext.state ?? TraceState())
        let spanContext = SpanContext(traceContext, isRemote: false)
        return OTLPSpan(
            operationName: operationName, kind: kind, attributes: attributes,
            context: SpanContext.setting(spanContext, in: parentContext), spanContext: spanContext,
            parent: parent, start: start, exporter: exporter)
    }

    /// Sends what has ended so far at the exporter's next turn.
    public func forceFlush() {
        exporter.wakeUp()
    }

    /// Reads a caller's `traceparent` and `tracestate` into `context`. A missing or malformed `traceparent` leaves
    /// `context` as it was: W3C Trace Context says to start a new trace then.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: "traceparent", from: carrier),
            let traceContext = try? TraceContext(
                traceParentHeaderValue: traceparent,
                traceStateHeaderValue: extractor.extract(key: "tracestate", from: carrier))
        else { return }
        context = SpanContext.setting(SpanContext(traceContext, isRemote: true), in: context)
    }

    /// Writes the span context of `context` as `traceparent`, and `tracestate` when it has entries.
    public func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let span = SpanContext.of(context) else { return }
        injector.inject(span.traceContext.traceParentHeaderValue, forKey: "traceparent", into: &carrier)
        if let state = span.traceContext.traceStateHeaderValue {
            injector.inject(state, forKey: "tracestate", into: &carrier)
        }
    }
}

// The backend's own child spans, started in this tracer's code rather than through swift-distributed-tracing's
// generic `withSpan` (see `ChildSpanTracer`); what they do is what `withSpan` does.
extension OTLPTracer: ChildSpanTracer {
    package func runChildSpan<T>(
        _ name: String, kind: SpanKind, attributes: SpanAttributes, in context: ServiceContext,
        _ body: () throws -> T
    ) rethrows -> T {
        let span = span(name, kind: kind, attributes: attributes, in: context)
        defer { span.end() }
        do {
            return try ServiceContext.withValue(span.context) { try body() }
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    package func runAsyncChildSpan<T>(
        _ name: String, kind: SpanKind, attributes: SpanAttributes, in context: ServiceContext,
        _ body: () async throws -> T
    ) async rethrows -> T {
        let span = span(name, kind: kind, attributes: attributes, in: context)
        defer { span.end() }
        do {
            return try await ServiceContext.withValue(span.context) { try await body() }
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}

/// A span of ``OTLPTracer``: it records until it ends, then goes to the exporter once.
public final class OTLPSpan: Span {
    /// The span's service context, which carries its ``SpanContext``.
    public let context: ServiceContext
    let spanContext: SpanContext
    let parent: SpanContext?
    let kind: SpanKind
    let startNanoseconds: UInt64
    private let exporter: OTLPExporter
    private let state: Mutex<State>

    struct State {
        var operationName: String
        var attributes: SpanAttributes = [:]
        var events: [SpanEvent] = []
        var links: [Link] = []
        var status: SpanStatus?
        var ended = false
    }

    /// A link to another span, by its context.
    struct Link: Sendable {
        let context: SpanContext
        let attributes: SpanAttributes
    }

    init(
        operationName: String, kind: SpanKind, attributes: SpanAttributes, context: ServiceContext,
        spanContext: SpanContext,
        parent: SpanContext?, start: UInt64, exporter: OTLPExporter
    ) {
        self.context = context
        self.spanContext = spanContext
        self.parent = parent
        self.kind = kind
        self.startNanoseconds = start
        self.exporter = exporter
        self.state = Mutex(State(operationName: operationName, attributes: attributes))
    }

    /// The operation's name; it can change until the span ends.
    public var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { if !$0.ended { $0.operationName = newValue } } }
    }

    /// The span's attributes; they can change until the span ends.
    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { if !$0.ended { $0.attributes = newValue } } }
    }

    /// Changes the span's attributes in place, under one lock, until the span ends.
    public func updateAttributes(_ update: (inout SpanAttributes) -> Void) {
        state.withLock { if !$0.ended { update(&$0.attributes) } }
    }

    /// Whether the span still records (it has not ended).
    public var isRecording: Bool { state.withLock { !$0.ended } }

    /// Sets the status. As OpenTelemetry says, `ok` is final, and only `error` keeps a message.
    public func setStatus(_ status: SpanStatus) {
        state.withLock { state in
            guard !state.ended, state.status?.code != .ok else { return }
            state.status = status.code == .ok ? SpanStatus(code: .ok) : status
        }
    }

    /// Adds an event.
    public func addEvent(_ event: SpanEvent) {
        state.withLock { if !$0.ended { $0.events.append(event) } }
    }

    /// Records `error` as an `exception` event (OpenTelemetry's semantic conventions), with its type and message.
    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        var eventAttributes: SpanAttributes = [
            "exception.type": .string(String(describing: type(of: error))),
            "exception.message": .string(String(describing: error)),
        ]
        eventAttributes.merge(attributes)
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: eventAttributes))
    }

    /// Links the span to the span whose context `link` carries; a link to a context without a span is dropped.
    public func addLink(_ link: SpanLink) {
        guard let linked = SpanContext.of(link.context) else { return }
        state.withLock { if !$0.ended { $0.links.append(Link(context: linked, attributes: link.attributes)) } }
    }

    /// Ends the span and hands it to the exporter; ending it again does nothing.
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let end = instant().nanosecondsSinceEpoch
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let finished else { return }
        exporter.add(
            FinishedSpan(
                spanContext: spanContext, parent: parent, kind: kind, start: startNanoseconds, end: end,
                name: finished.operationName, attributes: finished.attributes, events: finished.events,
                links: finished.links, status: finished.status))
    }
}

/// A span that has ended, as the exporter sends it.
struct FinishedSpan: Sendable {
    let spanContext: SpanContext
    let parent: SpanContext?
    let kind: SpanKind
    let start: UInt64
    let end: UInt64
    let name: String
    let attributes: SpanAttributes
    let events: [SpanEvent]
    let links: [OTLPSpan.Link]
    let status: SpanStatus?
}
