public import AsyncHTTPClient
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import StripeApps
import StripeAppsAPI
import Synchronization
import Tracing

/// Sends ended spans over OTLP/HTTP in batches: every ``OTLPExportConfiguration/scheduleDelay`` (200 ms by default),
/// or as soon as a batch is full. Spans beyond the queue's size are dropped and counted; an export the collector
/// refuses for a while (429, 502, 503, 504, or no connection) is tried again with a growing delay, within the
/// export's time-out. When the application stops, what is left is sent once.
///
/// It runs as a `Service` beside the application; ``OTLPTracer`` hands it its spans.
public final class OTLPExporter: Service, Sendable {
    /// What the exporter did with the spans it was given.
    public struct Statistics: Sendable, Equatable {
        /// Spans the collector accepted.
        public var exported = 0
        /// Spans dropped because the queue was full.
        public var dropped = 0
        /// Spans whose export failed for good.
        public var failed = 0
    }

    private struct Pending {
        var spans: [FinishedSpan] = []
        var statistics = Statistics()
        /// When losses were last logged, and how many spans were lost then: a collector that is down, or a queue
        /// that overflows, is logged once a minute, not per export.
        var lossesLogged: (at: ContinuousClock.Instant, lost: Int)?
        /// Set when the application stops: an export in progress is not tried again, so that stopping is not held
        /// up by a collector that is down.
        var stopping = false
    }

    private let configuration: OTLPExportConfiguration
    private let encoding: OTLPEncoding
    private let providedClient: HTTPClient?
    private let logger: Logger
    private let pending = Mutex(Pending())
    private let wakeUps: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    /// An exporter posting to `configuration.endpoint` with `client`, or, by default, with a client of its own
    /// that follows no redirect (the export headers often hold an API key) and that it shuts down when it stops.
    public init(
        configuration: OTLPExportConfiguration, client: HTTPClient? = nil,
        logger: Logger = Logger(label: "stripe-apps.traces")
    ) {
        self.configuration = configuration
        self.encoding = OTLPEncoding(
            resource: configuration.resourceAttributes.map { ($0.name, .string($0.value)) } + [
                ("telemetry.sdk.name", .string("stripe-apps-backend")),
                ("telemetry.sdk.language", .string("swift")),
            ],
            scopeName: "stripe-apps-backend", scopeVersion: "1")
        self.providedClient = client
        self.logger = logger
        (wakeUps, signal) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// What the exporter did so far.
    public var statistics: Statistics { pending.withLock { $0.statistics } }

    /// Queues an ended span; wakes the exporter when a batch is full.
    func add(_ span: FinishedSpan) {
        let full = pending.withLock { pending -> Bool in
            guard pending.spans.count < configuration.maxQueueSize else {
                pending.statistics.dropped += 1
                return false
            }
            pending.spans.append(span)
            return pending.spans.count == configuration.maxExportBatchSize
        }
        if full { signal.yield() }
    }

    /// Has the exporter send what is queued now, rather than at its next turn.
    func wakeUp() {
        signal.yield()
    }

    /// Exports at each turn until the application stops, then sends what is left, once.
    public func run() async throws {
        // The client's own requests must not be traced: each export would start spans to export.
        var clientConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        clientConfiguration.tracing.tracer = nil
        let client =
            providedClient ?? HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [configuration, signal] in
                while (try? await Task.sleep(for: configuration.scheduleDelay)) != nil { signal.yield() }
            }
            await withGracefulShutdownHandler {
                for await _ in self.wakeUps { await self.exportQueued(with: client) }
            } onGracefulShutdown: {
                self.pending.withLock { $0.stopping = true }
                self.signal.finish()
            }
            group.cancelAll()
        }
        await exportQueued(with: client)
        if providedClient == nil { try? await client.shutdown() }
    }

    /// Sends everything queued, a batch at a time.
    private func exportQueued(with client: HTTPClient) async {
        if statistics.dropped > 0 {
            reportLosses("the queue of spans waiting to be sent was full (OTEL_BSP_MAX_QUEUE_SIZE)")
        }
        while true {
            let batch = pending.withLock { pending -> [FinishedSpan] in
                let count = min(pending.spans.count, configuration.maxExportBatchSize)
                let batch = Array(pending.spans.prefix(count))
                pending.spans.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            // Under a trace marked as left out, so that a client that traces its requests (a provided one) starts
            // no span for an export.
            await ServiceContext.withValue(UnsampledTrace.markedTopLevel) { await send(batch, with: client) }
        }
    }

    /// Posts `batch`; tries again while the collector says it is busy or cannot be reached, within the export's
    /// time-out, unless the application is stopping.
    private func send(_ batch: [FinishedSpan], with client: HTTPClient) async {
        let body: [UInt8]
        let contentType: String
        switch configuration.bodyProtocol {
        case .protobuf:
            body = encoding.protobuf(batch)
            contentType = "application/x-protobuf"
        case .json:
            body = encoding.json(batch)
            contentType = "application/json"
        }
        // One request for every attempt: its body is a buffer, sent again as it is.
        var request = HTTPClientRequest(url: configuration.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "User-Agent", value: "stripe-apps-backend-otlp")
        for header in configuration.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.exportTimeout
        var delay = Duration.milliseconds(250)
        while true {
            let problem: String
            var retryAfter: Duration?
            do {
                let timeout = min(configuration.requestTimeout, max(deadline - clock.now, .milliseconds(1)))
                let response = try await client.execute(request, timeout: TimeAmount(timeout))
                _ = try? await response.body.collect(upTo: 1 << 16)
                let status = Int(response.status.code)
                if (200..<300).contains(status) {
                    succeeded(batch.count)
                    return
                }
                problem = "the collector answered \(status)"
                if [429, 502, 503, 504].contains(status) {
                    retryAfter =
                        response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
                        ?? delay
                }
            } catch {
                problem = "the collector could not be reached (\(type(of: error)))"
                retryAfter = delay
            }
            if let wait = retryAfter, clock.now + wait < deadline, !pending.withLock({ $0.stopping }) {
                try? await Task.sleep(for: wait)
                if Task.isCancelled { return failed(batch.count, problem) }
                delay *= 2
                continue
            }
            return failed(batch.count, problem)
        }
    }

    private func succeeded(_ count: Int) {
        pending.withLock { $0.statistics.exported += count }
    }

    private func failed(_ count: Int, _ problem: String) {
        pending.withLock { $0.statistics.failed += count }
        reportLosses(problem)
    }

    /// Logs a warning when spans were lost since the last one, at most once a minute.
    private func reportLosses(_ problem: String) {
        let now = ContinuousClock().now
        let lost: Int? = pending.withLock { pending in
            let lost = pending.statistics.failed + pending.statistics.dropped
            if let logged = pending.lossesLogged, lost == logged.lost || now - logged.at < .seconds(60) { return nil }
            guard lost > 0 else { return nil }
            pending.lossesLogged = (now, lost)
            return lost
        }
        guard let lost else { return }
        logger.warning("Traces were lost: \(problem). Spans lost so far: \(lost).")
    }
}

extension OTLPExporter {
    /// With traces configured (``AppConfiguration/isTracingEnabled``), bootstraps the process's tracer as `serve`
    /// does: an ``OTLPTracer`` behind ``HeadSampledTracer`` with the configured sampling. Returns the exporter, which
    /// must run as a service beside the application (`ApplicationHooks(services:)`); nil with traces off.
    ///
    /// `InstrumentationSystem` is bootstrapped once per process: call this once.
    public static func bootstrap(for configuration: AppConfiguration) -> OTLPExporter? {
        guard configuration.isTracingEnabled, let export = configuration.traceExport else { return nil }
        let exporter = OTLPExporter(configuration: export)
        InstrumentationSystem.bootstrap(
            HeadSampledTracer(OTLPTracer(exporter: exporter), sampling: configuration.traceSampling) { context in
                SpanContext.of(context).map { ("\($0.traceID)", $0.isSampled) }
            })
        return exporter
    }
}
