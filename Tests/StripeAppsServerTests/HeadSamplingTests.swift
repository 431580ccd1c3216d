import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryTracing
import StripeApps
import Synchronization
import Testing
import Tracing

@testable import StripeAppsServer

/// The backend's own head sampling: the `OTEL_TRACES_SAMPLER` values it reads, and the tracer that decides at the
/// start of a trace (over an in-memory tracer standing in for the OTLP one), so that a trace left out costs nothing
/// below it.
@Suite struct HeadSamplingTests {
    /// A parent as a test states it: a service context key holding a trace id and a sampled flag.
    private enum ParentKey: ServiceContextKey {
        typealias Value = (traceID: String, isSampled: Bool)
    }

    private static func tracer(
        _ sampling: TraceSampling, seed: UInt64 = 7
    ) -> (HeadSampledTracer<InMemoryTracer>, InMemoryTracer) {
        let wrapped = InMemoryTracer()
        let tracer = HeadSampledTracer(
            wrapped, sampling: sampling,
            parent: { context in
                context[ParentKey.self] ?? context.inMemorySpanContext.map { ($0.traceID, true) }
            }, coin: SamplingCoin(seed: seed))
        return (tracer, wrapped)
    }

    private static func context(parent traceID: String, sampled: Bool) -> ServiceContext {
        var context = ServiceContext.topLevel
        context[ParentKey.self] = (traceID, sampled)
        return context
    }

    @Test func readsEverySamplerTheSpecificationNames() throws {
        #expect(try TraceSampling(sampler: nil, argument: nil) == .default)
        #expect(TraceSampling.default.rootRatio == 1 && TraceSampling.default.followsParent)
        let ratio = try TraceSampling(sampler: "parentbased_traceidratio", argument: "0.1")
        #expect(ratio.rootRatio == 0.1 && ratio.followsParent)
        let plain = try TraceSampling(sampler: " TraceIdRatio ", argument: "0.25")
        #expect(plain.rootRatio == 0.25 && !plain.followsParent)
        #expect(try TraceSampling(sampler: "traceidratio", argument: nil).rootRatio == 1, "the ratio defaults to 1")
        let off = try TraceSampling(sampler: "always_off", argument: nil)
        #expect(off.keepsNothing)
        let parentOff = try TraceSampling(sampler: "parentbased_always_off", argument: nil)
        #expect(parentOff.rootRatio == 0 && parentOff.followsParent && !parentOff.keepsNothing)
        #expect(try TraceSampling(sampler: "always_on", argument: "").rootRatio == 1)
    }

    @Test func refusesWhatItCannotHonour() {
        #expect(throws: ConfigurationError.self) { try TraceSampling(sampler: "jaeger_remote", argument: nil) }
        for bad in ["1.5", "-0.1", "ten percent", "nan"] {
            #expect(throws: ConfigurationError.self) {
                try TraceSampling(sampler: "parentbased_traceidratio", argument: bad)
            }
        }
        let error = #expect(throws: ConfigurationError.self) {
            try TraceSampling(sampler: "always_on", argument: "0.5")
        }
        #expect(error?.variable == "OTEL_TRACES_SAMPLER_ARG")
    }

    /// The configuration reads the sampler only when traces are on, and a bad one stops start-up with its variable.
    @Test func theConfigurationReadsTheSamplerWhenTracesAreOn() throws {
        func read(_ values: [String: String]) throws -> AppConfiguration {
            try AppConfiguration(
                reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values)))
        }
        let endpoint = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"]
        let traced = try read(
            endpoint.merging(["OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"]) {
                $1
            })
        #expect(traced.isTracingEnabled && traced.traceSampling.rootRatio == 0.1)
        #expect(try read(endpoint).traceSampling == .default)
        let error = #expect(throws: ConfigurationError.self) {
            try read(endpoint.merging(["OTEL_TRACES_SAMPLER": "sometimes"]) { $1 })
        }
        #expect(error?.variable == "OTEL_TRACES_SAMPLER")
        // Traces off: the sampler is not read, so it cannot stop the server.
        let untraced = try read(["OTEL_TRACES_SAMPLER": "sometimes"])
        #expect(!untraced.isTracingEnabled)
    }

    @Test func aTraceLeftOutStartsNothingBelowIt() async throws {
        let (tracer, wrapped) = Self.tracer(try TraceSampling(sampler: "parentbased_traceidratio", argument: "0"))
        let request = tracer.startSpan("POST /api/whoami", context: .topLevel, ofKind: .server)
        #expect(!request.isRecording)
        #expect(UnsampledTrace.isMarked(request.context), "what starts under it is left out too")
        let child = tracer.startSpan("stripe_apps.signature.verify", context: request.context, ofKind: .internal)
        #expect(!child.isRecording && UnsampledTrace.isMarked(child.context))
        child.end()
        request.end()
        #expect(wrapped.finishedSpans.isEmpty && wrapped.activeSpans.isEmpty, "the wrapped tracer did no work")
    }

    @Test func aKeptTraceIsTheWrappedTracersWithItsChildren() throws {
        let (tracer, wrapped) = Self.tracer(.default)
        let request = tracer.startSpan("POST /api/whoami", context: .topLevel, ofKind: .server)
        let child = tracer.startSpan("stripe_apps.signature.verify", context: request.context, ofKind: .internal)
        child.attributes["stripe_apps.surface"] = "ui"
        child.end()
        request.end()
        let spans = wrapped.finishedSpans
        #expect(spans.map(\.operationName) == ["stripe_apps.signature.verify", "POST /api/whoami"])
        #expect(spans[0].parentSpanID == spans[1].spanID && spans[0].traceID == spans[1].traceID)
        #expect(spans[0].attributes["stripe_apps.surface"]?.toSpanAttribute() == "ui")
    }

    @Test func keepsTracesStartedHereAtTheRatio() throws {
        let (tracer, wrapped) = Self.tracer(try TraceSampling(sampler: "parentbased_traceidratio", argument: "0.25"))
        for _ in 0..<10_000 { tracer.startSpan("root", context: .topLevel, ofKind: .server).end() }
        // Binomial(10,000, 0.25): a standard deviation of about 43.
        #expect((2_300...2_700).contains(wrapped.finishedSpans.count))
    }

    @Test func followsTheParentWithAParentBasedSampler() throws {
        let (tracer, wrapped) = Self.tracer(try TraceSampling(sampler: "parentbased_traceidratio", argument: "0"))
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let sampled = tracer.startSpan("kept", context: Self.context(parent: traceID, sampled: true), ofKind: .server)
        let unsampled = tracer.startSpan(
            "left out", context: Self.context(parent: traceID, sampled: false), ofKind: .server)
        #expect(sampled.isRecording && !unsampled.isRecording)
        // The caller's context stays with the span left out, so a call it makes passes the caller's trace on.
        #expect(unsampled.context[ParentKey.self]?.traceID == traceID)
        sampled.end()
        unsampled.end()
        #expect(wrapped.finishedSpans.map(\.operationName) == ["kept"])
    }

    @Test func decidesAParentsTraceByItsIDWithTraceIDRatio() throws {
        let (tracer, _) = Self.tracer(try TraceSampling(sampler: "traceidratio", argument: "0.5"))
        // The rule swift-otel uses: the id's last eight bytes, little-endian, below half of UInt64.max.
        let low = "ffffffffffffffff" + "ffffffffffffff00"  // 0x00ff…ff: below
        let high = "0000000000000000" + "00000000000000f0"  // 0xf000…00: above
        #expect(tracer.keeps(Self.context(parent: low, sampled: false)), "an unsampled caller's id decides")
        #expect(!tracer.keeps(Self.context(parent: high, sampled: false)))
        #expect(tracer.keeps(Self.context(parent: high, sampled: true)), "a sampled parent goes on")
        let sampling = try TraceSampling(sampler: "traceidratio", argument: "0.5")
        #expect(!sampling.keeps(traceID: "not an id"))
    }

    /// With `traceidratio` a trace started here is kept by the coin, not by its id: its spans below it are all kept
    /// whatever the id says.
    @Test func aKeptTraceKeepsItsChildrenWithTraceIDRatio() throws {
        let (tracer, wrapped) = Self.tracer(try TraceSampling(sampler: "traceidratio", argument: "0.5"))
        var kept = 0
        for _ in 0..<200 {
            let root = tracer.startSpan("root", context: .topLevel, ofKind: .server)
            if root.isRecording {
                kept += 1
                let child = tracer.startSpan("child", context: root.context, ofKind: .internal)
                #expect(child.isRecording)
                child.end()
            }
            root.end()
        }
        #expect(kept > 0 && wrapped.finishedSpans.count == 2 * kept)
    }

    @Test func neverKeepsAnythingWithAlwaysOff() throws {
        let (tracer, wrapped) = Self.tracer(try TraceSampling(sampler: "always_off", argument: nil))
        tracer.startSpan(
            "caller's", context: Self.context(parent: String(repeating: "a", count: 32), sampled: true),
            ofKind: .server
        ).end()
        tracer.startSpan("root", context: .topLevel, ofKind: .server).end()
        #expect(wrapped.finishedSpans.isEmpty)
    }

    @Test func keepsWhatTheRequestMiddlewareKeptWithoutDecidingAgain() throws {
        let (tracer, _) = Self.tracer(try TraceSampling(sampler: "parentbased_traceidratio", argument: "0"))
        #expect(tracer.keeps(UnsampledTrace.keeping(.topLevel)))
        #expect(!tracer.keeps(.topLevel))
    }

    /// The request middleware with the head sampling: a request left out runs marked, with no span and no
    /// extraction; a kept one gets its span; a request carrying a `traceparent` is never decided by the coin.
    @Test func theRequestMiddlewareDecidesBeforeStartingAnything() async throws {
        let marks = Mutex<[Bool]>([])
        func app(_ sampling: TraceSampling) -> some ApplicationProtocol {
            let router = Router()
            router.add(middleware: RequestTracingMiddleware(sampling: sampling))
            router.get("probe") { _, _ -> String in
                marks.withLock { $0.append(UnsampledTrace.isCurrent) }
                return "ok"
            }
            return Application(router: router)
        }
        try await app(try TraceSampling(sampler: "parentbased_traceidratio", argument: "0")).test(.router) { client in
            try await client.execute(uri: "/probe", method: .get) { #expect($0.status == .ok) }
        }
        #expect(marks.withLock { $0 } == [true], "left out: marked")
        try await app(.default).test(.router) { client in
            try await client.execute(uri: "/probe", method: .get) { #expect($0.status == .ok) }
        }
        // Kept: the span comes from the process's tracer; with none bootstrapped it records nothing, so the
        // request runs marked all the same (`UnsampledTrace.mark(unless:)`). TracingTests checks kept spans end to end.
        #expect(marks.withLock { $0 } == [true, true])
    }
}
