package import Tracing

/// A tracer that runs the backend's own child spans (storage calls, the signature check) itself.
///
/// Why: swift-distributed-tracing's `withSpan` is not inlinable, so it runs unspecialized for every tracer (type
/// metadata, witness calls and boxes at each span), and finding the bootstrapped tracer takes a lock and casts to
/// protocol types each time; a profile of a traced request showed both costing more than recording the span.
/// ``ChildSpan`` runs a span with the tracer a kept request carries in its context (the request middleware puts
/// `OTLPTracer` there), in that tracer's own code.
package protocol ChildSpanTracer: Sendable {
    /// Runs `body` in a span named `name`, with `attributes`, started in `context`; the span is current in `body`,
    /// records an error `body` throws, and ends when `body` returns.
    func runChildSpan<T>(
        _ name: String, kind: SpanKind, attributes: SpanAttributes, in context: ServiceContext,
        _ body: () throws -> T
    ) rethrows -> T

    /// Runs `body` in a span as ``runChildSpan(_:kind:attributes:in:_:)`` does, for asynchronous work.
    func runAsyncChildSpan<T>(
        _ name: String, kind: SpanKind, attributes: SpanAttributes, in context: ServiceContext,
        _ body: () async throws -> T
    ) async rethrows -> T
}

/// Runs the backend's own child spans: with the tracer the current request carries (``ChildSpanTracer``), with
/// the bootstrapped tracer otherwise, and not at all under a trace left out (``UnsampledTrace``) or with traces off
/// (no tracer bootstrapped), when neither the name nor the attributes are built.
package enum ChildSpan {
    private enum Key: ServiceContextKey {
        typealias Value = any ChildSpanTracer
        static var nameOverride: String? { "stripe-apps-child-span-tracer" }
    }

    /// `context` carrying `tracer` for the child spans started under it.
    package static func carrying(_ tracer: any ChildSpanTracer, in context: ServiceContext) -> ServiceContext {
        var carrying = context
        carrying[Key.self] = tracer
        return carrying
    }

    /// Where a child span of the current task starts.
    private enum Start {
        case none
        case carried(any ChildSpanTracer, ServiceContext)
        case tracer(any Tracer, ServiceContext)
    }

    private static func start(with tracer: (any Tracer)?) -> Start {
        let current = ServiceContext.current
        // Under a trace left out (the common case at a low sampling ratio): checked first.
        if let current, UnsampledTrace.isMarked(current) { return .none }
        if let tracer { return tracer is NoOpTracer ? .none : .tracer(tracer, current ?? .topLevel) }
        if let current, let carried = current[Key.self] { return .carried(carried, current) }
        let bootstrapped = InstrumentationSystem.tracer
        return bootstrapped is NoOpTracer ? .none : .tracer(bootstrapped, current ?? .topLevel)
    }

    /// Runs `body` in a child span of the current one, named `name`, with the attributes `attributes` builds from
    /// the name; `tracer`, when given, is used instead of the one the request carries or the bootstrapped one.
    package static func run<T>(
        _ name: @autoclosure () -> String, kind: SpanKind = .internal,
        attributes: (_ name: String) -> SpanAttributes, tracer: (any Tracer)? = nil, _ body: () throws -> T
    ) rethrows -> T {
        switch start(with: tracer) {
        case .none:
            return try body()
        case .carried(let carried, let context):
            let name = name()
            return try carried.runChildSpan(name, kind: kind, attributes: attributes(name), in: context, body)
        case .tracer(let tracer, let context):
            let name = name()
            return try tracer.withSpan(name, context: context, ofKind: kind) { span in
                // An unsampled span keeps nothing: no attribute is built for it.
                if span.isRecording {
                    let added = attributes(name)
                    span.updateAttributes { $0.merge(added) }
                }
                return try body()
            }
        }
    }

    /// Runs asynchronous `body` in a child span of the current one, as ``run(_:kind:attributes:tracer:_:)`` does.
    package static func run<T>(
        _ name: @autoclosure () -> String, kind: SpanKind = .internal,
        attributes: (_ name: String) -> SpanAttributes, tracer: (any Tracer)? = nil, _ body: () async throws -> T
    ) async rethrows -> T {
        switch start(with: tracer) {
        case .none:
            return try await body()
        case .carried(let carried, let context):
            let name = name()
            return try await carried.runAsyncChildSpan(
                name, kind: kind, attributes: attributes(name), in: context, body)
        case .tracer(let tracer, let context):
            let name = name()
            return try await tracer.withSpan(name, context: context, ofKind: kind) { span in
                if span.isRecording {
                    let added = attributes(name)
                    span.updateAttributes { $0.merge(added) }
                }
                return try await body()
            }
        }
    }
}
