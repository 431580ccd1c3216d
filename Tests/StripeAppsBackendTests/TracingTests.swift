import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsTesting
import Synchronization
import Testing

/// Traces as an operator gets them: `serve` with the standard `OTEL_*` variables exports OTLP/HTTP (JSON here) to a
/// receiver this test runs; the spans have the route template, continue the caller's `traceparent`, nest the
/// signature check under the request, hold nothing from a URL's query, and the log lines carry their ids.
@Suite struct TracingTests {
    static let secret = "absec_tracing_test_secret_0123456789"
    static let webhookSecret = "whsec_tracing_test_secret"

    /// One exported span, as OTLP/JSON writes it (ids in hex).
    struct ExportedSpan {
        let traceID: String
        let spanID: String
        let parentSpanID: String?
        let name: String
        let kind: Int
        let attributes: [String: String]
        /// The spans it links to, as trace id and span id in hex.
        let links: [Link]

        struct Link: Equatable {
            let traceID: String
            let spanID: String
        }

        static func all(in body: [String: Any]) -> [ExportedSpan] {
            func list(_ value: Any?) -> [[String: Any]] { value as? [[String: Any]] ?? [] }
            var spans: [ExportedSpan] = []
            for resource in list(body["resourceSpans"]) {
                for scope in list(resource["scopeSpans"]) {
                    for span in list(scope["spans"]) {
                        var attributes: [String: String] = [:]
                        for attribute in list(span["attributes"]) {
                            guard let key = attribute["key"] as? String,
                                let value = attribute["value"] as? [String: Any]
                            else { continue }
                            attributes[key] = (value["stringValue"] ?? value["intValue"]).map { "\($0)" } ?? ""
                        }
                        spans.append(
                            ExportedSpan(
                                traceID: hex(span["traceId"] as? String), spanID: hex(span["spanId"] as? String),
                                parentSpanID: (span["parentSpanId"] as? String).map { hex($0) },
                                name: span["name"] as? String ?? "", kind: span["kind"] as? Int ?? 0,
                                attributes: attributes,
                                links: list(span["links"]).map {
                                    Link(traceID: hex($0["traceId"] as? String), spanID: hex($0["spanId"] as? String))
                                }))
                    }
                }
            }
            return spans
        }

        /// An OTLP/JSON id: hex digits, as `traceparent` writes them (not protobuf JSON's base64).
        static func hex(_ id: String?) -> String { id?.lowercased() ?? "" }
    }

    /// Runs `serve` with `environment` (and the app secret) exporting OTLP/JSON every 100 ms to a receiver started
    /// here; `body` gets the server, its port and the spans as they arrive. A minute of waiting for what `body` waits
    /// for ends the stream, and the test fails on what is missing.
    static func withTracedServe(
        _ environment: [String: String],
        _ body: @Sendable (ServeProcess, Int, SpanReceiver) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("traces-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // The receiver: every export's body, as it arrives.
        let (exports, received) = AsyncStream<Data>.makeStream()
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 22)
            received.yield(Data(body.readableBytesView))
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        try await Application(router: router).test(.live) { receiver in
            let receiverPort = try #require(receiver.port)
            let port = try freePort()
            let server = try ServeProcess(
                arguments: ["--port", "\(port)"], directory: directory,
                environment: environment.merging([
                    "STRIPE_APP_SECRETS": Self.secret,
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(receiverPort)",
                    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_BSP_SCHEDULE_DELAY": "100",
                ]) { $1 })
            defer { server.stop() }
            try await server.waitUntilReady(port: port)
            try await body(server, port, SpanReceiver(exports: exports, end: { received.finish() }))
        }
    }

    /// The spans a traced `serve` exported, read export by export.
    struct SpanReceiver {
        let exports: AsyncStream<Data>
        /// Ends the stream of exports.
        let end: @Sendable () -> Void

        /// The spans received until `enough` says so, or until a minute after the call, when the stream is ended (a
        /// minute from the call, not from the server's start: on a loaded machine, sending the requests alone took
        /// most of a minute).
        func spans(until enough: ([ExportedSpan]) -> Bool) async -> [ExportedSpan] {
            let limit = Task { [end] in
                try await Task.sleep(for: .seconds(60))
                end()
            }
            defer { limit.cancel() }
            var spans: [ExportedSpan] = []
            for await export in exports {
                guard let body = try? JSONSerialization.jsonObject(with: export) as? [String: Any] else { continue }
                spans += ExportedSpan.all(in: body)
                if enough(spans) { break }
            }
            return spans
        }
    }

    /// Sends a signed `POST /api/whoami`, with a caller's `traceparent` when given, and expects a 200.
    static func whoami(port: Int, accountID: String, traceparent: String? = nil) async throws {
        let signed = try UIExtensionSigner(secrets: [Self.secret]).post(
            userID: "usr_traced", accountID: accountID, mode: .test)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/whoami")
        request.method = .POST
        for field in signed.headers { request.headers.add(name: field.name.rawName, value: field.value) }
        if let traceparent { request.headers.add(name: "traceparent", value: traceparent) }
        request.body = .bytes(try #require(signed.body))
        #expect(try await HTTPClient.shared.execute(request, timeout: .seconds(30)).status == .ok)
    }

    @Test func serveExportsRequestSpansThatContinueTheCallersTrace() async throws {
        let environment = [
            "STRIPE_WEBHOOK_SECRETS_TEST": Self.webhookSecret, "OTEL_TRACES_SAMPLER": "always_on",
            "OTEL_SERVICE_NAME": "tracing-test",
        ]
        try await Self.withTracedServe(environment) { server, port, receiver in
            // A caller that is itself traced sends its traceparent with the signed request.
            let callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
            let callerSpan = "00f067aa0ba902b7"
            try await Self.whoami(
                port: port, accountID: "acct_traced", traceparent: "00-\(callerTrace)-\(callerSpan)-01")
            // An install callback's query carries a code and a state: no span may hold them.
            let callback = HTTPClientRequest(
                url: "http://127.0.0.1:\(port)/install/callback?code=ac_secretcode123&state=somestate")
            _ = try await HTTPClient.shared.execute(callback, timeout: .seconds(30))

            // A webhook whose built-in handler (the install lifecycle) runs in the worker.
            let event =
                #"{"id":"evt_traced","object":"event","created":1700000000,"livemode":false,"type":"account.application.authorized","account":"acct_traced","data":{"object":{"id":"ca_1","object":"application"}}}"#
            let signature = SignatureSigner(keyring: try SigningKeyring(secrets: [Self.webhookSecret]))
                .signatureHeader(for: Array(event.utf8), timestamp: Int64(Date().timeIntervalSince1970))
            var delivery = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/test")
            delivery.method = .POST
            delivery.headers.add(name: "Stripe-Signature", value: signature.headerValue)
            delivery.headers.add(name: "Content-Type", value: "application/json")
            delivery.body = .bytes(ByteBuffer(string: event))
            #expect(try await HTTPClient.shared.execute(delivery, timeout: .seconds(30)).status == .ok)

            let expected: Set = [
                "POST /api/whoami", "stripe_apps.signature.verify", "GET /install/callback", "POST /webhooks/test",
                "stripe_apps.event.handle", "EventInbox.enqueue",
            ]
            let spans = await receiver.spans { Set($0.map(\.name)).isSuperset(of: expected) }
            let request = try #require(spans.first { $0.name == "POST /api/whoami" })
            #expect(request.kind == 2, "a server span")
            #expect(request.traceID == callerTrace && request.parentSpanID == callerSpan, "the caller's trace goes on")
            #expect(request.attributes["http.route"] == "/api/whoami")
            #expect(request.attributes["http.response.status_code"] == "200")
            let verify = try #require(spans.first { $0.name == "stripe_apps.signature.verify" })
            #expect(verify.traceID == callerTrace && verify.parentSpanID == request.spanID, "nested in the request")
            let install = try #require(spans.first { $0.name == "GET /install/callback" })
            #expect(install.attributes["http.route"] == "/install/callback")
            let handled = try #require(spans.first { $0.name == "stripe_apps.event.handle" })
            #expect(handled.attributes["stripe_apps.event.type"] == "account.application.authorized")
            #expect(handled.kind == 5, "a consumer span (OTLP SPAN_KIND_CONSUMER)")
            // The run links to the delivery that stored the event (kept with it in the inbox).
            let delivered = try #require(spans.first { $0.name == "POST /webhooks/test" })
            #expect(handled.links == [.init(traceID: delivered.traceID, spanID: delivered.spanID)])
            // Storage calls are client spans of their own, under the request that made them.
            let stored = try #require(spans.first { $0.name == "EventInbox.enqueue" })
            #expect(stored.traceID == delivered.traceID && stored.parentSpanID == delivered.spanID)
            #expect(stored.kind == 3, "a client span (OTLP SPAN_KIND_CLIENT)")
            #expect(stored.attributes["db.system.name"] == "sqlite")
            // The exporter's own requests start no span (each export would otherwise have spans to export).
            #expect(!spans.contains { $0.name == "POST" || $0.attributes["url.full"] != nil })
            for span in spans {
                for value in span.attributes.values {
                    #expect(!value.contains("secretcode") && !value.contains("somestate") && !value.contains("acct_"))
                }
            }
            // The request's log line carries the ids of its span.
            let logged = await server.logLines.first { $0.contains("signed request") }
            let line = try #require(logged)
            let metadata = try PayloadValue.parse(line)["metadata"]
            #expect(metadata?["trace_id"]?.stringValue == callerTrace)
            #expect(metadata?["span_id"]?.stringValue == request.spanID)
        }
    }

    /// `OTEL_TRACES_SAMPLER=parentbased_traceidratio` at 0.25, applied once by the backend's head sampler (not again
    /// by the tracer): about a quarter of the requests that start a trace are exported, each with its signature span;
    /// a caller's sampled `traceparent` is always followed and an unsampled one never; no child span of a request
    /// left out is exported on its own.
    @Test func serveKeepsTheConfiguredShareOfTracesAndFollowsCallers() async throws {
        let environment = ["OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"]
        try await Self.withTracedServe(environment) { _, port, receiver in
            func caller(_ index: Int) -> String { String(format: "%032x", 0xC0FFEE_0000 + index) }
            for _ in 0..<200 { try await Self.whoami(port: port, accountID: "acct_sampled") }
            for index in 0..<40 {
                // The first twenty callers sampled their trace, the next twenty did not.
                let flags = index < 20 ? "01" : "00"
                try await Self.whoami(
                    port: port, accountID: "acct_sampled", traceparent: "00-\(caller(index))-00f067aa0ba902b7-\(flags)")
            }
            // Last, a request of a trace of its own: once it is exported, everything ended before it has been.
            let last = "4bf92f3577b34da6a3ce929d0e0e4799"
            try await Self.whoami(port: port, accountID: "acct_sampled", traceparent: "00-\(last)-00f067aa0ba902b7-01")
            let spans = await receiver.spans { spans in
                spans.contains { $0.traceID == last && $0.name == "POST /api/whoami" }
            }
            let requests = spans.filter { $0.name == "POST /api/whoami" }
            let followed = Set((0..<20).map(caller))
            let refused = Set((20..<40).map(caller))
            #expect(followed.isSubset(of: Set(requests.map(\.traceID))), "a caller's sampled trace is always followed")
            #expect(refused.isDisjoint(with: Set(spans.map(\.traceID))), "a caller's unsampled trace never is")
            // Binomial(200, 0.25): 50 expected, a standard deviation of about 6. Sampled again by the tracer, it
            // would be about 12.
            let started = requests.filter { !followed.contains($0.traceID) && $0.traceID != last }
            #expect((26...80).contains(started.count), "\(started.count) of 200 traces kept at 0.25")
            // Each exported signature span belongs to an exported request: nothing under a request left out is.
            let requestSpans = Set(requests.map(\.spanID))
            let verifications = spans.filter { $0.name == "stripe_apps.signature.verify" }
            #expect(verifications.count == requests.count)
            #expect(verifications.allSatisfy { requestSpans.contains($0.parentSpanID ?? "") })
        }
    }
}
