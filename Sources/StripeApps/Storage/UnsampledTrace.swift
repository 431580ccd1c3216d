package import Tracing

/// Marks a task's work as part of a trace that is not sampled, so that the spans it would start are skipped.
///
/// With a parent-based sampler (`OTEL_TRACES_SAMPLER=parentbased_traceidratio`, the usual one) the children of an
/// unsampled span are never sampled either: starting them only costs time (each `startSpan` builds a context and
/// asks the sampler). The server's request span sets this mark when the request is not sampled, and the backend's
/// own child spans (storage calls, signature checks) run their work without a span under it. The request span
/// itself, and the trace context carried on to other services and stored with webhook events, are unchanged.
package enum UnsampledTrace {
    private enum Key: ServiceContextKey {
        typealias Value = Bool
        static var nameOverride: String? { "stripe-apps-unsampled-trace" }
    }

    /// Set on a trace the request middleware already decided to keep, so that the tracer does not decide again.
    private enum KeptKey: ServiceContextKey {
        typealias Value = Bool
        static var nameOverride: String? { "stripe-apps-kept-trace" }
    }

    /// A top-level context with the mark set: what a request left out runs under, built once.
    package static let markedTopLevel = marking(.topLevel)

    /// Whether the current task runs under a request span that is not sampled.
    package static var isCurrent: Bool { ServiceContext.current?[Key.self] == true }

    /// Whether `context` is marked as part of a trace that is not sampled.
    package static func isMarked(_ context: ServiceContext) -> Bool { context[Key.self] == true }

    /// `context` with the mark set: what a span the head sampler leaves out carries (see `HeadSampledTracer`).
    package static func marking(_ context: ServiceContext) -> ServiceContext {
        var marked = context
        marked[Key.self] = true
        return marked
    }

    /// `context` marked as the start of a trace already decided to be kept.
    package static func keeping(_ context: ServiceContext) -> ServiceContext {
        var kept = context
        kept[KeptKey.self] = true
        return kept
    }

    /// Whether `context` starts a trace already decided to be kept.
    package static func isKept(_ context: ServiceContext) -> Bool { context[KeptKey.self] == true }

    /// Runs `body` marked as under an unsampled span when `span` does not record (and is not marked already).
    package static func mark<T>(unless span: some Span, _ body: () async throws -> T) async rethrows -> T {
        guard !span.isRecording, !isMarked(span.context) else { return try await body() }
        var context = ServiceContext.current ?? .topLevel
        context[Key.self] = true
        return try await ServiceContext.withValue(context) { try await body() }
    }
}
