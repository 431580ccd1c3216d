import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryTracing
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsAPI
import StripeAppsTesting
import Synchronization
import Testing
import Tracing

/// The client spans of outgoing calls, recorded by an in-memory tracer given to the clients (the global one is
/// bootstrapped once per process, by `serve`): one per Stripe API attempt with its retry number and status, and
/// one per call to another service, whose trace context goes with the request.
@Suite struct ClientSpanTests {
    static let tenant = Tenant(accountID: "acct_1SpanTenant00000", mode: .test)

    /// Under a request that is not sampled, storage calls start no span (with a parent-based sampler none would be
    /// sampled); under a sampled one they do, as children of it.
    @Test func storageCallsStartNoSpanUnderAnUnsampledRequest() async throws {
        let tracer = InMemoryTracer()
        let unsampled = NoOpTracer.NoOpSpan(context: .topLevel)
        let answer = try await UnsampledTrace.mark(unless: unsampled) {
            #expect(UnsampledTrace.isCurrent)
            return try await StorageSpan.run(
                system: "sqlite", fileID: "StripeAppsSQLite/SQLiteEventInbox.swift", function: "claim()",
                tracer: tracer
            ) { 42 }
        }
        #expect(answer == 42)
        #expect(tracer.finishedSpans.isEmpty, "\(tracer.finishedSpans.map(\.operationName))")
        #expect(!UnsampledTrace.isCurrent, "the mark ends with its task-local scope")

        try await tracer.withSpan("POST /api/whoami", ofKind: .server) { request in
            try await UnsampledTrace.mark(unless: request) {
                #expect(!UnsampledTrace.isCurrent, "a recording span is not marked")
                try await StorageSpan.run(
                    system: "sqlite", fileID: "StripeAppsSQLite/SQLiteEventInbox.swift", function: "claim()",
                    tracer: tracer
                ) {}
            }
        }
        #expect(tracer.finishedSpans.map(\.operationName) == ["EventInbox.claim", "POST /api/whoami"])
    }

    @Test func eachStripeAttemptIsAClientSpanNestedInTheCallersWithItsRetryAndStatus() async throws {
        let tracer = InMemoryTracer()
        let fake = FakeStripe()
        fake.addAccount(Self.tenant.accountID)
        try await fake.withServer { url in
            let api = try StripeAPI(
                configuration: StripeAPIConfiguration(baseURL: url.absoluteString, tracer: tracer),
                secretKeys: [APICredential(secretKey: fake.testSecretKey)], sleep: { _ in }, jitter: { 1 })
            fake.injectFault(.rateLimited(code: "lock_timeout"), path: "/v1/customers", method: "POST")
            let client = try api.client(for: Self.tenant)
            try await tracer.withSpan("job") { _ in
                _ = try await client.customers.create(["email": "span@example.com"])
            }
        }
        let spans = tracer.finishedSpans
        let parent = try #require(spans.first { $0.operationName == "job" })
        let attempts = spans.filter { $0.operationName == "stripe.api POST" }
        try #require(attempts.count == 2, "\(spans.map(\.operationName))")
        #expect(attempts.allSatisfy { $0.kind == .client })
        #expect(attempts.allSatisfy { $0.traceID == parent.traceID && $0.parentSpanID == parent.spanID })
        #expect(attempts.map { $0.attributes["stripe_apps.retry"]?.toSpanAttribute() } == [.int64(0), .int64(1)])
        #expect(
            attempts.map { $0.attributes["http.response.status_code"]?.toSpanAttribute() } == [
                .int64(429), .int64(200),
            ])
        #expect(attempts[0].events.map(\.name) == ["retry scheduled"], "the retry is an event of the failed attempt")
        #expect(attempts[1].events.isEmpty)
        for attempt in attempts {
            // SpanAttributes is not a Sequence: forEach is its only walk.
            // swift-format-ignore: ReplaceForEachWithForLoop
            attempt.attributes.forEach { key, value in
                #expect(!"\(value)".contains(Self.tenant.accountID), "no account id in \(key)")
            }
        }
    }

    @Test func aCallToAnotherServiceCarriesTheTraceContextOfItsClientSpan() async throws {
        let tracer = InMemoryTracer()
        let seen = Mutex<[String: String]>([:])
        let router = Router()
        router.get("v1/ping") { request, _ -> String in
            seen.withLock { seen in
                for field in request.headers where field.name.rawName.hasPrefix("in-memory-") {
                    seen[field.name.rawName] = field.value
                }
            }
            return "pong"
        }
        try await Application(router: router).test(.live) { server in
            let port = try #require(server.port)
            let service = ExternalAPIClient(
                baseURL: "http://127.0.0.1:\(port)", credentialName: "svc.key",
                secrets: OneSecret(tenant: Self.tenant, value: "svc_key_1"), tracer: tracer)
            let answer = try await service.send(.GET, "/v1/ping", for: Self.tenant)
            #expect(answer.status == .ok)
        }
        let span = try #require(tracer.finishedSpans.first { $0.operationName == "HTTP GET" })
        #expect(span.kind == .client)
        #expect(span.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(200))
        let headers = seen.withLock { $0 }
        #expect(headers[InMemoryTracer.traceIDKey] == span.traceID, "the service continues our trace")
        #expect(headers[InMemoryTracer.spanIDKey] == span.spanID, "under the client span")
    }

    /// With the tracer the process uses (here scoped with `withTracer`) and the default HTTP client, a call has our
    /// client span only: AsyncHTTPClient adds no span of its own (it would hold the full URL and query) and no second
    /// `traceparent`-like header (two make W3C Trace Context discard both).
    @Test func theDefaultHTTPClientAddsNoSpanOrTraceHeaderOfItsOwn() async throws {
        let tracer = InMemoryTracer()
        let seen = Mutex<[String: [String]]>([:])
        let router = Router()
        router.get("v1/ping") { request, _ -> String in
            seen.withLock { seen in
                for field in request.headers where field.name.rawName.hasPrefix("in-memory-") {
                    seen[field.name.rawName, default: []].append(field.value)
                }
            }
            return "pong"
        }
        try await Application(router: router).test(.live) { server in
            let port = try #require(server.port)
            try await withTracer(tracer) {
                let service = ExternalAPIClient(
                    baseURL: "http://127.0.0.1:\(port)/", credentialName: "svc.key",
                    secrets: OneSecret(tenant: Self.tenant, value: "svc_key_1"))
                let answer = try await service.send(.GET, "/v1/ping?q=secret", for: Self.tenant)
                #expect(answer.status == .ok)
            }
        }
        #expect(tracer.finishedSpans.map(\.operationName) == ["HTTP GET"], "our span, and no client span of AHC's")
        let span = try #require(tracer.finishedSpans.first)
        let headers = seen.withLock { $0 }
        #expect(headers[InMemoryTracer.traceIDKey] == [span.traceID], "one trace header, ours")
        #expect(headers[InMemoryTracer.spanIDKey] == [span.spanID])
    }
}

/// A secret store holding one tenant's one secret.
private struct OneSecret: TenantSecretStore {
    let tenant: Tenant
    let value: String

    func secret(named name: String, for tenant: Tenant) async throws -> String? {
        tenant == self.tenant ? value : nil
    }

    func setSecret(_ value: String, named name: String, for tenant: Tenant) async throws {}

    func deleteSecret(named name: String, for tenant: Tenant) async throws {}
}
