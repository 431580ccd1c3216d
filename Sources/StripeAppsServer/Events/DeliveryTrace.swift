import Tracing

/// The W3C trace context a stored event keeps of the request that stored it (``StripeApps/InboxEvent/traceParent``),
/// so that the span of each later run of its handlers links back to that delivery.
///
/// Both directions go through the bootstrapped instrument: with traces off it is a no-op, which injects nothing,
/// and the event keeps no trace context.
enum DeliveryTrace {
    /// The `traceparent` of the span current in this task, if traces are on and there is one.
    static func current() -> String? {
        guard let context = ServiceContext.current else { return nil }
        var carrier = TraceCarrier()
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: TraceCarrier.Access())
        return carrier.traceParent
    }

    /// Links `span` to the delivery whose `traceParent` the event kept; nothing when it kept none, or when the
    /// instrument cannot read it (a value from an older version or another tracer).
    static func link(_ span: any Span, to traceParent: String?) {
        guard let traceParent else { return }
        var delivery = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(
            TraceCarrier(traceParent: traceParent), into: &delivery, using: TraceCarrier.Access())
        // An extraction that found nothing leaves the context empty: a link to it would point nowhere.
        guard delivery.count > 0 else { return }
        span.addLink(SpanLink(context: delivery, attributes: [:]))
    }

    /// Only `traceparent` is kept: `tracestate` is vendor data the link does not need.
    struct TraceCarrier {
        var traceParent: String?

        struct Access: Injector, Extractor {
            func inject(_ value: String, forKey key: String, into carrier: inout TraceCarrier) {
                if key == "traceparent" { carrier.traceParent = value }
            }

            func extract(key: String, from carrier: TraceCarrier) -> String? {
                key == "traceparent" ? carrier.traceParent : nil
            }
        }
    }
}
