import Foundation
import StripeApps
import Synchronization

/// Which traces are kept, from the standard `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`: the OpenTelemetry
/// samplers `always_on`, `always_off`, `traceidratio`, `parentbased_always_on` (the default),
/// `parentbased_always_off` and `parentbased_traceidratio`, with the ratio (0 to 1, default 1) of the ratio ones.
///
/// The backend applies it itself, at the start of each trace (``HeadSampledTracer``), so that the traces it leaves
/// out cost almost nothing.
public struct TraceSampling: Sendable, Equatable {
    /// The share of traces started here (no parent) that are kept, 0 to 1.
    public var rootRatio: Double
    /// Whether a span with a parent follows the parent's decision (the `parentbased_*` samplers). Otherwise a sampled
    /// parent is still followed, and an unsampled one (a caller's) is decided by its trace id (`traceidratio`) or
    /// not at all (`always_on` keeps it, `always_off` keeps nothing).
    public var followsParent: Bool
    /// Whether a caller's unsampled trace is decided by its trace id at ``rootRatio`` (`traceidratio`).
    var decidesByTraceID: Bool

    /// The OpenTelemetry default, `parentbased_always_on`.
    public static let `default` = TraceSampling(rootRatio: 1, followsParent: true, decidesByTraceID: false)

    /// The sampler the variables name.
    ///
    /// - Throws: ``ConfigurationError`` for an unknown sampler, a ratio that is not a number from 0 to 1, or an
    ///   argument given to a sampler that takes none.
    public init(sampler: String?, argument: String?) throws {
        let name = (sampler ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let argument = argument?.trimmingCharacters(in: .whitespaces)
        func ratio() throws -> Double {
            guard let argument, !argument.isEmpty else { return 1 }
            guard let value = Double(argument), value >= 0, value <= 1 else {
                throw ConfigurationError(variable: "OTEL_TRACES_SAMPLER_ARG", problem: "must be a ratio from 0 to 1")
            }
            return value
        }
        func noArgument() throws {
            guard (argument ?? "").isEmpty else {
                throw ConfigurationError(
                    variable: "OTEL_TRACES_SAMPLER_ARG", problem: "is not used by the sampler \(name); leave it unset")
            }
        }
        switch name {
        case "", "parentbased_always_on":
            try noArgument()
            self = .default
        case "always_on":
            try noArgument()
            self.init(rootRatio: 1, followsParent: false, decidesByTraceID: false)
        case "always_off":
            try noArgument()
            self.init(rootRatio: 0, followsParent: false, decidesByTraceID: false)
        case "parentbased_always_off":
            try noArgument()
            self.init(rootRatio: 0, followsParent: true, decidesByTraceID: false)
        case "traceidratio":
            self.init(rootRatio: try ratio(), followsParent: false, decidesByTraceID: true)
        case "parentbased_traceidratio":
            self.init(rootRatio: try ratio(), followsParent: true, decidesByTraceID: false)
        default:
            throw ConfigurationError(
                variable: "OTEL_TRACES_SAMPLER",
                problem:
                    "names no sampler this backend knows (always_on, always_off, traceidratio, parentbased_always_on, "
                    + "parentbased_always_off, parentbased_traceidratio)")
        }
    }

    init(rootRatio: Double, followsParent: Bool, decidesByTraceID: Bool) {
        self.rootRatio = rootRatio
        self.followsParent = followsParent
        self.decidesByTraceID = decidesByTraceID
    }

    /// Whether nothing is ever kept: the tracer is not worth starting a span with.
    public var keepsNothing: Bool { rootRatio == 0 && !followsParent }

    /// Whether a trace with this id (32 hex digits) is kept by `traceidratio`: the rule of OpenTelemetry's
    /// TraceIdRatioBased sampler as swift-otel implements it (the id's last eight bytes, read little-endian, below
    /// the ratio of `UInt64.max`); the specification leaves the rule to each SDK.
    func keeps(traceID: String) -> Bool {
        admits {
            let digits = Array(traceID.utf8)
            guard digits.count == 32 else { return nil }
            var value: UInt64 = 0
            // Bytes 8...15, the first of them the least significant.
            for byte in (8..<16).reversed() {
                guard let high = URLComponentEncoding.hexValue(digits[2 * byte]),
                    let low = URLComponentEncoding.hexValue(digits[2 * byte + 1])
                else {
                    return nil
                }
                value = value << 8 | UInt64(high << 4 | low)
            }
            return value
        }
    }

    /// Whether a uniform 64-bit `draw` falls within ``rootRatio``: always at 1, never at 0 (without drawing), and
    /// below the ratio of `UInt64.max` otherwise; no draw (nil) is never kept. The one rule of the coin and of
    /// `traceidratio`.
    func admits(_ draw: () -> UInt64?) -> Bool {
        if rootRatio >= 1 { return true }
        if rootRatio <= 0 { return false }
        guard let value = draw() else { return false }
        return value < UInt64(rootRatio * Double(UInt64.max))
    }
}

/// The coin a trace started here is kept by: SplitMix64 over one atomic counter, seeded from the system's random
/// source once.
///
/// Our own because the standard library's generator is one `getrandom` system call per draw, which a profile showed
/// costing more than the rest of a left-out trace; this decides only which traces are kept, never anything secret.
final class SamplingCoin: Sendable {
    private let state: Atomic<UInt64>

    init(seed: UInt64 = .random(in: .min ... .max)) {
        state = Atomic(seed)
    }

    /// The next uniform 64-bit draw.
    func next() -> UInt64 {
        var z = state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
