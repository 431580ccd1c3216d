import StripeApps
public import Tracing

/// A tracer that decides at the start of each trace whether it is kept (``TraceSampling``), before the tracer it
/// wraps does any work: a trace it leaves out gets a span that records nothing and carries no new trace context, and
/// every span started under it is left out at once.
///
/// Why: a tracer that samples as the OpenTelemetry SDKs do builds a full span context (two new ids, the sampler, a
/// context copy) for every span, kept or not, and at a 10% ratio that cost more than the one trace in ten it
/// exports. This takes the shortcut the SDKs take for `always_off`, at the price the OpenTelemetry specification
/// names: a span left out gets no fresh, propagatable context. So a request that is not kept has no `trace_id` in its log lines and
/// sends no `traceparent` of its own; a caller's `traceparent` it carries is passed on as it came.
///
/// The wrapped tracer must keep every span that reaches it (``OTLPTracer`` does).
public struct HeadSampledTracer<Wrapped: Tracer>: Tracer {
    /// A trace's parent as the wrapped tracer sees a context: its trace id (32 hex digits) and whether it is sampled.
    public typealias Parent = @Sendable (ServiceContext) -> (traceID: String, isSampled: Bool)?

    /// The tracer it wraps, which records the traces kept.
    let wrapped: Wrapped
    private let sampling: TraceSampling
    private let parent: Parent
    private let coin: SamplingCoin

    /// Wraps `tracer`, keeping traces as `sampling` says; `parent` reads the span context the wrapped tracer keeps in
    /// a service context (with ``OTLPTracer``: its ``SpanContext``).
    public init(_ tracer: Wrapped, sampling: TraceSampling, parent: @escaping Parent) {
        self.init(tracer, sampling: sampling, parent: parent, coin: SamplingCoin())
    }

    init(_ tracer: Wrapped, sampling: TraceSampling, parent: @escaping Parent, coin: SamplingCoin) {
        self.wrapped = tracer
        self.sampling = sampling
        self.parent = parent
        self.coin = coin
    }

    /// Whether a span started in `context` is kept.
    func keeps(_ context: ServiceContext) -> Bool {
        if UnsampledTrace.isMarked(context) { return false }
        // The request middleware decided already (a request that starts a trace).
        if UnsampledTrace.isKept(context) { return true }
        if sampling.keepsNothing { return false }
        guard let parent = parent(context) else { return sampling.admits(coin.next) }
        // A sampled parent is kept: ours were kept here (with `traceidratio` by the coin, not by their trace id, so
        // their id must not decide for their children), and a caller's sampled trace goes on.
        if parent.isSampled { return true }
        if sampling.followsParent { return false }
        // A caller's unsampled trace: `traceidratio` decides by its id, `always_on` keeps it.
        return sampling.decidesByTraceID ? sampling.keeps(traceID: parent.traceID) : sampling.rootRatio >= 1
    }

    /// Starts a span: the wrapped tracer's when the trace is kept, a marked one that records nothing otherwise.
    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> HeadSampledSpan<Wrapped.Span> {
        let context = context()
        guard keeps(context) else {
            // Its context is marked, so that what starts under it (storage calls, the signature check) is left out too.
            let marked = UnsampledTrace.isMarked(context) ? context : UnsampledTrace.marking(context)
            return .leftOut(NoOpTracer.NoOpSpan(context: marked))
        }
        return .kept(
            wrapped.startSpan(
                operationName, context: context, ofKind: kind, at: instant(), function: function, file: fileID,
                line: line))
    }

    /// Does nothing: the requirement is deprecated, and the exporter flushes on shutdown.
    public func forceFlush() {}

    /// Reads a caller's trace context with the wrapped tracer's propagator.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        wrapped.extract(carrier, into: &context, using: extractor)
    }

    /// Writes the trace context with the wrapped tracer's propagator.
    public func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        wrapped.inject(context, into: &carrier, using: injector)
    }
}

/// A span of ``HeadSampledTracer``: the wrapped tracer's when the trace is kept, one that records nothing otherwise.
public enum HeadSampledSpan<Wrapped: Span>: Span {
    /// A span of a kept trace.
    case kept(Wrapped)
    /// A span of a trace left out: it carries its context (marked) and records nothing.
    case leftOut(NoOpTracer.NoOpSpan)

    /// The span's service context.
    public var context: ServiceContext {
        switch self {
        case .kept(let span): span.context
        case .leftOut(let span): span.context
        }
    }

    /// The operation's name; only a kept span takes a new one.
    public var operationName: String {
        get {
            switch self {
            case .kept(let span): span.operationName
            case .leftOut(let span): span.operationName
            }
        }
        nonmutating set {
            if case .kept(let span) = self { span.operationName = newValue }
        }
    }

    /// The span's attributes; only a kept span takes new ones.
    public var attributes: SpanAttributes {
        get {
            switch self {
            case .kept(let span): span.attributes
            case .leftOut(let span): span.attributes
            }
        }
        nonmutating set {
            if case .kept(let span) = self { span.attributes = newValue }
        }
    }

    /// Whether the span records: never when its trace is left out.
    public var isRecording: Bool {
        if case .kept(let span) = self { return span.isRecording }
        return false
    }

    /// Sets the status of a kept span.
    public func setStatus(_ status: SpanStatus) {
        if case .kept(let span) = self { span.setStatus(status) }
    }

    /// Adds an event to a kept span.
    public func addEvent(_ event: SpanEvent) {
        if case .kept(let span) = self { span.addEvent(event) }
    }

    /// Records an error on a kept span.
    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        if case .kept(let span) = self { span.recordError(error, attributes: attributes, at: instant()) }
    }

    /// Adds a link to a kept span.
    public func addLink(_ link: SpanLink) {
        if case .kept(let span) = self { span.addLink(link) }
    }

    /// Ends a kept span.
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        if case .kept(let span) = self { span.end(at: instant()) }
    }
}
