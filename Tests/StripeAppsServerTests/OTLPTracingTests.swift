import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import StripeApps
import Synchronization
import Testing
import Tracing
import W3CTraceContext

@testable import StripeAppsServer

/// The backend's OTLP tracer and exporter: span contexts, W3C Trace Context both ways, what a span keeps once ended,
/// batching, the queue's limit, retries, and the `OTEL_*` variables. The bodies' encoding is checked against the
/// official Python package in `OTLPEncodingCrossCheckTests`.
@Suite struct OTLPTracingTests {
    // MARK: A collector

    /// One export as the collector received it.
    struct Export: Sendable {
        let headers: HTTPFields
        let body: [UInt8]

        /// The span names of an OTLP/JSON body, in order.
        var spanNames: [String] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return [] }
            let resources = object["resourceSpans"] as? [[String: Any]] ?? []
            let scopes = resources.flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }
            return scopes.flatMap { $0["spans"] as? [[String: Any]] ?? [] }.compactMap { $0["name"] as? String }
        }
    }

    /// The exporter under test, running beside a collector.
    struct Running: Sendable {
        let exporter: OTLPExporter
        let tracer: OTLPTracer
        /// The exports as the collector receives them.
        let exports: AsyncStream<Export>
        let group: ServiceGroup
        let run: Task<Void, any Error>
        /// How many export requests the collector answered.
        let answered: AnswerCount

        /// Stops the exporter gracefully and waits until it has sent what was left: its statistics are final then.
        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await run.value
        }
    }

    /// Runs a collector answering each export with the next of `statuses` (then 200), and an exporter posting to it
    /// as `configure` says; `body` gets them running. The exporter is stopped after `body` if it did not stop it.
    static func withCollector(
        answering statuses: [HTTPResponse.Status] = [],
        configuration base: OTLPExportConfiguration = configured { _ in },
        body: @Sendable (Running) async throws -> Void
    ) async throws {
        let (exports, received) = AsyncStream<Export>.makeStream()
        let answers = Mutex(statuses)
        let answered = AnswerCount()
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 22)
            received.yield(Export(headers: request.headers, body: Array(bytes.readableBytesView)))
            answered.increment()
            let status = answers.withLock { $0.isEmpty ? .ok : $0.removeFirst() }
            // A redirect points back here: followed, it would be a second export.
            return Response(
                status: status, headers: [HTTPField.Name("Retry-After")!: "0", .location: "/v1/traces"])
        }
        try await Application(router: router).test(.live) { collector in
            var configuration = base
            configuration.endpoint = "http://127.0.0.1:\(collector.port!)/v1/traces"
            let exporter = OTLPExporter(configuration: configuration)
            let group = ServiceGroup(
                configuration: .init(services: [exporter], logger: Logger(label: "otlp-test")))
            let running = Running(
                exporter: exporter, tracer: OTLPTracer(exporter: exporter), exports: exports, group: group,
                run: Task { try await group.run() }, answered: answered)
            try await body(running)
            try await running.stop()
            received.finish()
        }
    }

    /// The test's exporter configuration: OTLP/JSON, exports only when a batch is full (the timer is an hour away),
    /// with `change` applied; the endpoint is the collector's.
    static func configured(_ change: (inout OTLPExportConfiguration) -> Void) -> OTLPExportConfiguration {
        var configuration = OTLPExportConfiguration(endpoint: "http://127.0.0.1/v1/traces")
        configuration.bodyProtocol = .json
        configuration.scheduleDelay = .seconds(3600)
        change(&configuration)
        return configuration
    }

    /// The next `count` exports, or fewer if the stream ends.
    static func next(_ count: Int, of exports: AsyncStream<Export>) async -> [Export] {
        var taken: [Export] = []
        for await export in exports {
            taken.append(export)
            if taken.count == count { break }
        }
        return taken
    }

    // MARK: Spans and contexts

    @Test func aChildStaysInItsParentsTraceAndARootStartsOne() async throws {
        try await Self.withCollector { running in
            let tracer = running.tracer
            let root = tracer.startSpan("root", context: .topLevel)
            let child = tracer.startSpan("child", context: root.context)
            let rootContext = try #require(SpanContext.of(root.context))
            let childContext = try #require(SpanContext.of(child.context))
            #expect(childContext.traceID == rootContext.traceID)
            #expect(childContext.spanID != rootContext.spanID)
            #expect(child.parent == rootContext && root.parent == nil)
            #expect(rootContext.isSampled && !rootContext.isRemote)
            let other = try #require(SpanContext.of(tracer.startSpan("other", context: .topLevel).context))
            #expect(other.traceID != rootContext.traceID, "a root starts a trace of its own")
            #expect(other.traceID != .null && other.spanID != .null)
        }
    }

    @Test func idsAreRandomAndNeverRepeat() {
        let ids = RandomIDs()
        let traces = Set((0..<10_000).map { _ in ids.traceID() })
        let spans = Set((0..<10_000).map { _ in ids.spanID() })
        #expect(traces.count == 10_000 && spans.count == 10_000)
        // Every bit of a trace id is set in about half of them: nothing is stuck.
        let sample = (0..<2000).map { _ in ids.traceID().bytesArray }
        for byte in 0..<16 {
            for bit in 0..<8 {
                let set = sample.filter { $0[byte] & (1 << bit) != 0 }.count
                #expect((800...1200).contains(set), "bit \(bit) of byte \(byte) set in \(set) of 2000")
            }
        }
    }

    @Test func traceContextGoesOutAndComesBackAsW3CSays() async throws {
        try await Self.withCollector { running in
            let tracer = running.tracer
            var incoming = ServiceContext.topLevel
            let headers = [
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "tracestate": "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
            ]
            tracer.extract(headers, into: &incoming, using: DictionaryExtractor())
            let caller = try #require(SpanContext.of(incoming))
            #expect(caller.isRemote && caller.isSampled)
            #expect(
                "\(caller.traceID)" == "0af7651916cd43dd8448eb211c80319c" && "\(caller.spanID)" == "b7ad6b7169203331")

            let span = tracer.startSpan("server", context: incoming)
            #expect(span.parent == caller)
            var outgoing: [String: String] = [:]
            tracer.inject(span.context, into: &outgoing, using: DictionaryInjector())
            let spanID = try #require(SpanContext.of(span.context)?.spanID)
            #expect(outgoing["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-\(spanID)-01")
            #expect(outgoing["tracestate"] == "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE", "the caller's state goes on")

            // Malformed or missing: a new trace starts, and nothing is written for a context without a span.
            for bad in ["", "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01", "ff-x-y-01"] {
                var context = ServiceContext.topLevel
                tracer.extract(["traceparent": bad], into: &context, using: DictionaryExtractor())
                #expect(SpanContext.of(context) == nil, "\(bad) was read")
            }
            var nothing: [String: String] = [:]
            tracer.inject(.topLevel, into: &nothing, using: DictionaryInjector())
            #expect(nothing.isEmpty)
        }
    }

    @Test func anEndedSpanIsExportedOnceAsItWasWhenItEnded() async throws {
        try await Self.withCollector { running in
            let (exporter, tracer, exports) = (running.exporter, running.tracer, running.exports)
            let span = tracer.startSpan("first name", context: .topLevel, ofKind: .client)
            span.operationName = "renamed"
            span.attributes["kept"] = "yes"
            span.setStatus(SpanStatus(code: .ok))
            span.setStatus(SpanStatus(code: .error, message: "too late"))
            span.recordError(CancellationError())
            span.end()
            #expect(!span.isRecording)
            span.attributes["after"] = "no"
            span.operationName = "after"
            span.addEvent("after")
            span.end()
            tracer.forceFlush()
            let export = try #require(await Self.next(1, of: exports).first)
            #expect(export.spanNames == ["renamed"])
            let text = String(decoding: export.body, as: UTF8.self)
            #expect(text.contains(#""key":"kept""#) && !text.contains(#""after""#))
            #expect(text.contains(#""status":{"code":1}"#), "ok is final, and keeps no message")
            #expect(text.contains(#""name":"exception""#) && text.contains("CancellationError"))
            try await running.stop()
            #expect(exporter.statistics == .init(exported: 1, dropped: 0, failed: 0))
        }
    }

    /// The spans of an OTLP/JSON body, each as its JSON object.
    static func spans(of export: Export) throws -> [[String: Any]] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(export.body)) as? [String: Any])
        let resources = object["resourceSpans"] as? [[String: Any]] ?? []
        let scopes = resources.flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }
        return scopes.flatMap { $0["spans"] as? [[String: Any]] ?? [] }
    }

    /// A span's attributes as `key: value` texts (`"sqlite"`, `200`).
    static func attributes(of span: [String: Any]) -> [String: String] {
        var found: [String: String] = [:]
        for attribute in span["attributes"] as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else {
                continue
            }
            found[key] = (value["stringValue"] as? String) ?? (value["intValue"]).map { "\($0)" }
        }
        return found
    }

    /// `serve`'s path for a kept request: the request middleware records it with the tracer it was given, and puts
    /// that tracer in the request's context, so that the backend's own child spans (a storage call, a synchronous
    /// check) are recorded by it too, in the request's trace, with their attributes; an error thrown in a child
    /// span is recorded on it. A request left out records nothing at all.
    @Test func aKeptRequestsOwnSpansAreRecordedWithTheTracerItCarries() async throws {
        struct Refused: Error {}
        try await Self.withCollector { running in
            func app(_ sampling: TraceSampling) -> some ApplicationProtocol {
                let router = Router()
                router.add(middleware: RequestTracingMiddleware(sampling: sampling, tracer: running.tracer))
                router.get("probe/{id}") { _, _ -> String in
                    try await StorageSpan.run(
                        system: "sqlite", fileID: "StripeAppsSQLite/SQLiteInstallationStore.swift",
                        function: "installation(for:)"
                    ) {}
                    #expect(throws: Refused.self) {
                        try ChildSpan.run("check", attributes: { _ in ["surface": .string("ui")] }) {
                            throw Refused()
                        }
                    }
                    return "ok"
                }
                return Application(router: router)
            }
            let leftOut = try TraceSampling(sampler: "parentbased_traceidratio", argument: "0")
            try await app(leftOut).test(.router) { client in
                try await client.execute(uri: "/probe/1", method: .get) { #expect($0.status == .ok) }
            }
            try await app(.default).test(.router) { client in
                try await client.execute(uri: "/probe/2", method: .get) { #expect($0.status == .ok) }
            }
            try await running.stop()
            #expect(running.exporter.statistics.exported == 3, "the kept request's three spans, none of the other")
            let export = try #require(await Self.next(1, of: running.exports).first)
            let spans = try Self.spans(of: export)
            let byName = Dictionary(spans.map { (($0["name"] as? String) ?? "", $0) }) { first, _ in first }
            #expect(byName.keys.sorted() == ["GET /probe/{id}", "Installation.installation", "check"])
            let server = try #require(byName["GET /probe/{id}"])
            let storage = try #require(byName["Installation.installation"])
            let check = try #require(byName["check"])
            #expect(server["kind"] as? Int == 2 && storage["kind"] as? Int == 3 && check["kind"] as? Int == 1)
            #expect(server["parentSpanId"] == nil || server["parentSpanId"] as? String == "")
            for child in [storage, check] {
                #expect(child["traceId"] as? String == server["traceId"] as? String)
                #expect(child["parentSpanId"] as? String == server["spanId"] as? String)
            }
            #expect(
                Self.attributes(of: server) == [
                    "http.request.method": "GET", "http.route": "/probe/{id}", "http.response.status_code": "200",
                ])
            #expect(
                Self.attributes(of: storage) == [
                    "db.system.name": "sqlite", "stripe_apps.storage.operation": "Installation.installation",
                ])
            #expect(Self.attributes(of: check) == ["surface": "ui"])
            let status = check["status"] as? [String: Any]
            #expect(status?["code"] as? Int == 2, "the error is recorded on the span that threw it")
            let events = check["events"] as? [[String: Any]] ?? []
            #expect(events.compactMap { $0["name"] as? String } == ["exception"])
        }
    }

    @Test func logLinesCarryTheCurrentSpansIDs() async throws {
        try await Self.withCollector { running in
            let tracer = running.tracer
            #expect(SpanContext.loggingMetadataProvider.get().isEmpty, "no span, no ids")
            let span = tracer.startSpan("logged", context: .topLevel)
            let context = try #require(SpanContext.of(span.context))
            let metadata = ServiceContext.withValue(span.context) { SpanContext.loggingMetadataProvider.get() }
            #expect(metadata["trace_id"] == "\(context.traceID)" && metadata["span_id"] == "\(context.spanID)")
            #expect(metadata["trace_flags"] == "01")
        }
    }

    // MARK: The exporter

    @Test func aFullBatchGoesAtOnceAndTheRestWhenTheExporterStops() async throws {
        try await Self.withCollector(configuration: Self.configured { $0.maxExportBatchSize = 3 }) { running in
            let (exporter, tracer, exports) = (running.exporter, running.tracer, running.exports)
            for index in 0..<7 { tracer.startSpan("span \(index)", context: .topLevel).end() }
            // The timer is an hour away: only full batches wake the exporter.
            let full = await Self.next(2, of: exports)
            #expect(full.map(\.spanNames) == [["span 0", "span 1", "span 2"], ["span 3", "span 4", "span 5"]])
            #expect(full.allSatisfy { $0.headers[.contentType] == "application/json" })
            try await running.stop()
            let last = await Self.next(1, of: exports)
            #expect(last.map(\.spanNames) == [["span 6"]], "what is left is sent when the application stops")
            #expect(exporter.statistics == .init(exported: 7, dropped: 0, failed: 0))
        }
    }

    @Test func theTimerSendsWhatEnded() async throws {
        try await Self.withCollector(configuration: Self.configured { $0.scheduleDelay = .milliseconds(20) }) {
            running in
            let (tracer, exports) = (running.tracer, running.exports)
            tracer.startSpan("alone", context: .topLevel).end()
            #expect(await Self.next(1, of: exports).map(\.spanNames) == [["alone"]])
        }
    }

    @Test func spansBeyondTheQueueAreDroppedAndCounted() async throws {
        // An exporter that is not running yet: nothing leaves the queue.
        var configuration = OTLPExportConfiguration(endpoint: "http://127.0.0.1:9/v1/traces")
        configuration.maxQueueSize = 4
        configuration.maxExportBatchSize = 2
        let exporter = OTLPExporter(configuration: configuration)
        let tracer = OTLPTracer(exporter: exporter)
        for index in 0..<10 { tracer.startSpan("span \(index)", context: .topLevel).end() }
        #expect(exporter.statistics == .init(exported: 0, dropped: 6, failed: 0))
    }

    @Test func aBusyCollectorIsAskedAgainAndARefusalIsNot() async throws {
        try await Self.withCollector(answering: [.serviceUnavailable, .tooManyRequests, .badRequest]) {
            running in
            let (exporter, tracer, exports) = (running.exporter, running.tracer, running.exports)
            tracer.startSpan("retried", context: .topLevel).end()
            tracer.forceFlush()
            let attempts = await Self.next(3, of: exports)
            #expect(attempts.map(\.spanNames) == [["retried"], ["retried"], ["retried"]])
            tracer.startSpan("next", context: .topLevel).end()
            tracer.forceFlush()
            #expect(await Self.next(1, of: exports).map(\.spanNames) == [["next"]], "400 is not tried again")
            try await running.stop()
            #expect(exporter.statistics == .init(exported: 1, dropped: 0, failed: 1))
        }
    }

    @Test func stoppingDoesNotWaitForACollectorThatIsDown() async throws {
        let configuration = Self.configured { $0.exportTimeout = .seconds(600) }
        try await Self.withCollector(
            answering: Array(repeating: .serviceUnavailable, count: 100_000), configuration: configuration
        ) { running in
            running.tracer.startSpan("unlucky", context: .topLevel).end()
            running.tracer.forceFlush()
            _ = await Self.next(1, of: running.exports)
            // Retried at once (Retry-After: 0) until the export's ten minutes are over, unless stopping ends it.
            try await running.stop()
            #expect(running.exporter.statistics == .init(exported: 0, dropped: 0, failed: 1))
            #expect(running.answered.value < 100_000)
        }
    }

    @Test func aRedirectIsNotFollowed() async throws {
        try await Self.withCollector(answering: [.temporaryRedirect]) { running in
            running.tracer.startSpan("redirected", context: .topLevel).end()
            running.tracer.forceFlush()
            _ = await Self.next(1, of: running.exports)
            try await running.stop()
            #expect(running.answered.value == 1, "the export headers must not follow a redirect")
            #expect(running.exporter.statistics == .init(exported: 0, dropped: 0, failed: 1))
        }
    }

    @Test func theConfiguredHeadersAndProtocolAreSent() async throws {
        let configuration = Self.configured {
            $0.bodyProtocol = .protobuf
            $0.headers = [.init(name: "x-api-key", value: "k 1,2")]
        }
        try await Self.withCollector(configuration: configuration) { running in
            let (tracer, exports) = (running.tracer, running.exports)
            tracer.startSpan("protobuf", context: .topLevel).end()
            tracer.forceFlush()
            let export = try #require(await Self.next(1, of: exports).first)
            #expect(export.headers[.contentType] == "application/x-protobuf")
            #expect(export.headers[HTTPField.Name("x-api-key")!] == "k 1,2")
            #expect(export.body.first == 0x0A, "an ExportTraceServiceRequest starts with its resource_spans field")
        }
    }

    // MARK: Configuration

    static func configuration(_ variables: [String: String]) throws -> OTLPExportConfiguration? {
        try OTLPExportConfiguration { variables[$0] }
    }

    @Test func readsTheStandardVariables() throws {
        #expect(try Self.configuration([:]) == nil, "no endpoint, no traces")
        let base = try #require(try Self.configuration(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]))
        #expect(base.endpoint == "http://collector:4318/v1/traces")
        #expect(base.bodyProtocol == .protobuf && base.scheduleDelay == .milliseconds(200))
        #expect(base.maxQueueSize == 2048 && base.maxExportBatchSize == 512 && base.requestTimeout == .seconds(10))
        #expect(base.resourceAttributes == [.init(name: "service.name", value: "stripe-apps-backend")])
        let slash = try Self.configuration(["OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector/otlp/"])
        #expect(slash?.endpoint == "https://collector/otlp/v1/traces")

        let full = try #require(
            try Self.configuration([
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/custom/path",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "HTTP/JSON",
                "OTEL_EXPORTER_OTLP_HEADERS": "api-key=general",
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "API-Key=s%20e%2Ccret , tenant = a=b",
                "OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
                "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attributes,deployment.environment=prod%20eu",
                "OTEL_SERVICE_NAME": "billing", "OTEL_BSP_SCHEDULE_DELAY": "1000", "OTEL_BSP_EXPORT_TIMEOUT": "5000",
                "OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100",
            ]))
        #expect(full.endpoint == "http://collector:4318/custom/path", "the traces endpoint is used as it is")
        for printed in ["\(full)", String(reflecting: full)] {
            #expect(!printed.contains("cret") && printed.contains("api-key: <redacted>"), "a header value was printed")
        }
        #expect(full.bodyProtocol == .json)
        #expect(full.headers == [.init(name: "api-key", value: "s e,cret"), .init(name: "tenant", value: "a=b")])
        #expect(full.requestTimeout == .milliseconds(2500) && full.exportTimeout == .seconds(5))
        #expect(
            full.resourceAttributes == [
                .init(name: "service.name", value: "billing"), .init(name: "deployment.environment", value: "prod eu"),
            ])
        #expect(full.scheduleDelay == .seconds(1) && full.maxQueueSize == 100 && full.maxExportBatchSize == 100)
        let named = try Self.configuration([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attributes",
        ])
        #expect(named?.resourceAttributes == [.init(name: "service.name", value: "from-attributes")])
    }

    @Test func refusesWhatItCannotHonourAndNamesTheVariable() {
        let endpoint = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]
        let cases: [(String, String)] = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/thrift"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=b%0D%0AInjected: yes"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"),
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/etc/key.pem"),
            ("OTEL_RESOURCE_ATTRIBUTES", "=abc"),
            ("OTEL_BSP_SCHEDULE_DELAY", "0"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "-1"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"),
        ]
        for (variable, value) in cases {
            let error = #expect(throws: ConfigurationError.self, "\(variable)=\(value)") {
                try Self.configuration(endpoint.merging([variable: value]) { $1 })
            }
            #expect(error?.variable == variable)
            #expect(error.map { !$0.description.contains(value) || value.count < 3 } ?? true, "no value echoed")
        }
    }
}

/// A count shared by the collector and the test.
final class AnswerCount: Sendable {
    private let count = Mutex(0)

    func increment() { count.withLock { $0 += 1 } }

    var value: Int { count.withLock { $0 } }
}

struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
