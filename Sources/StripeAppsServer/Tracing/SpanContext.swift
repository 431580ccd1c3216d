public import Logging
import Synchronization
public import Tracing
public import W3CTraceContext

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The W3C trace context of a span: what `traceparent` and `tracestate` carry, kept in a `ServiceContext` by
/// ``OTLPTracer`` for the span that is current, and read from a caller's headers.
public struct SpanContext: Sendable, Hashable {
    /// The trace id, its ids and flags as W3C Trace Context writes them.
    public var traceContext: TraceContext
    /// Whether it came from another process (a caller's `traceparent`) rather than a span started here.
    public var isRemote: Bool

    /// A span context.
    public init(_ traceContext: TraceContext, isRemote: Bool) {
        self.traceContext = traceContext
        self.isRemote = isRemote
    }

    /// The trace id.
    public var traceID: TraceID { traceContext.traceID }
    /// The span id.
    public var spanID: SpanID { traceContext.spanID }
    /// Whether the trace is sampled (the `01` flag of `traceparent`).
    public var isSampled: Bool { traceContext.flags.contains(.sampled) }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.traceID == rhs.traceID && lhs.spanID == rhs.spanID && lhs.traceContext.flags == rhs.traceContext.flags
            && lhs.isRemote == rhs.isRemote
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(traceID)
        hasher.combine(spanID)
    }

    private enum Key: ServiceContextKey {
        typealias Value = SpanContext
        static var nameOverride: String? { "stripe-apps-span-context" }
    }

    /// The span context kept in `context`, if any.
    public static func of(_ context: ServiceContext) -> SpanContext? { context[Key.self] }

    /// `context` with `spanContext` as its span context.
    public static func setting(_ spanContext: SpanContext, in context: ServiceContext) -> ServiceContext {
        var context = context
        context[Key.self] = spanContext
        return context
    }

    /// A logging metadata provider that puts the current span's `trace_id`, `span_id` and `trace_flags` (in hex, as
    /// `traceparent` writes them) into every log line written under a span.
    public static let loggingMetadataProvider = Logger.MetadataProvider {
        guard let context = ServiceContext.current, let span = SpanContext.of(context) else { return [:] }
        return [
            "trace_id": "\(span.traceID)", "span_id": "\(span.spanID)",
            "trace_flags": span.isSampled ? "01" : "00",
        ]
    }
}

/// Trace and span ids from the system's random source, read 4 KiB at a time.
///
/// Why not `TraceID.random()`: it asks the system for every id (one `getrandom` call each, two per span started),
/// which showed in the profile of a traced request. One refill here (16 calls of 256 bytes) serves about 250 spans,
/// with the same randomness.
final class RandomIDs: Sendable {
    private struct Pool: ~Copyable {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var next = 4096

        mutating func take(_ count: Int) -> ArraySlice<UInt8> {
            if next + count > bytes.count {
                bytes.withUnsafeMutableBytes { RandomIDs.fill($0) }
                next = 0
            }
            defer { next += count }
            return bytes[next..<next + count]
        }
    }

    private let pool = Mutex(Pool())

    init() {}

    /// A new trace id, never all zeros.
    func traceID() -> TraceID {
        while true {
            let id = pool.withLock { pool in
                let b = pool.take(16)
                let i = b.startIndex
                return TraceID(
                    bytes: (
                        b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7], b[i + 8],
                        b[i + 9], b[i + 10], b[i + 11], b[i + 12], b[i + 13], b[i + 14], b[i + 15]
                    ))
            }
            if id != .null { return id }
        }
    }

    /// A new span id, never all zeros.
    func spanID() -> SpanID {
        while true {
            let id = pool.withLock { pool in
                let b = pool.take(8)
                let i = b.startIndex
                return SpanID(bytes: (b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]))
            }
            if id != .null { return id }
        }
    }

    /// Fills `buffer` from the operating system's cryptographically secure source (`getentropy`, which gives at
    /// most 256 bytes a call and fails only for a bad buffer; the standard library's source is the fallback).
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        var filled = 0
        while filled < buffer.count {
            let count = min(256, buffer.count - filled)
            guard getentropy(base + filled, count) == 0 else { break }
            filled += count
        }
        var generator = SystemRandomNumberGenerator()
        for index in filled..<buffer.count { buffer[index] = UInt8.random(in: .min ... .max, using: &generator) }
    }
}
