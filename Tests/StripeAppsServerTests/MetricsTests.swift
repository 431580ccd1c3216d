import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Synchronization
import Testing

let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// `GET /metrics`: what it counts, what it never says, who may read it, and that Prometheus accepts it.
@Suite struct MetricsTests {
    static let token = "metrics-token-" + String(repeating: "m", count: 32)

    /// The samples of a scrape, by series as written (`name{labels}`), without comments.
    struct Scrape {
        let text: String
        let samples: [String: Double]

        init(_ text: String) {
            self.text = text
            var samples: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
                else { continue }
                samples[String(line[..<space])] = value
            }
            self.samples = samples
        }

        subscript(_ series: String) -> Double? { samples[series] }
    }

    static func scrape(_ client: some TestClientProtocol, token: String? = nil) async throws -> Scrape {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        let response = try await client.execute(uri: "/metrics", method: .get, headers: headers)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        return Scrape(String(buffer: response.body))
    }

    /// Requests are counted by route template and status; signature checks by result; deliveries by outcome; and
    /// no account id, user id, secret or raw path reaches a label.
    @Test func requestsSignaturesAndDeliveriesAreCountedWithBoundedLabels() async throws {
        let tenant = Tenant(accountID: "acct_metrics1", mode: .test)
        let storage = InMemoryStorage()
        try await install(tenant, in: storage)
        let app = try buildApplication(
            configuration: try WebhookRouteTests.configuration(), storage: storage,
            hooks: ApplicationHooks(now: { testNow }))
        try await app.test(.router) { client in
            let whoami = try await client.execute(
                "/api/whoami", .post, signer.post(userID: "usr_metrics1", accountID: tenant.accountID, mode: .test))
            #expect(whoami.status == .ok)
            var tampered = try signer.post(userID: "usr_metrics1", accountID: tenant.accountID, mode: .test)
            tampered.body = ByteBuffer(
                string: (tampered.body.map { String(buffer: $0) } ?? "").replacingOccurrences(of: "1", with: "2"))
            #expect(try await client.execute("/api/whoami", .post, tampered).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/whoami", method: .post).status == .unauthorized)
            #expect(try await client.execute(uri: "/acct_metrics1/usr_metrics1", method: .get).status == .notFound)

            let event = WebhookRouteTests.event(id: "evt_metrics1")
            let headers = try WebhookRouteTests.signed(event)
            for _ in 0..<2 {
                let delivered = try await client.execute(
                    uri: "/webhooks/test", method: .post, headers: headers, body: ByteBuffer(string: event))
                #expect(delivered.status == .ok)
            }
            let forged = try WebhookRouteTests.signed(event, secret: "whsec_someone_else")
            #expect(
                try await client.execute(
                    uri: "/webhooks/test", method: .post, headers: forged, body: ByteBuffer(string: event)
                ).status == .unauthorized)

            let scrape = try await Self.scrape(client)
            func requests(_ method: String, _ route: String, _ status: Int) -> Double? {
                scrape[
                    "http_server_request_duration_seconds_count{http_request_method=\"\(method)\","
                        + "http_route=\"\(route)\",http_response_status_code=\"\(status)\"}"]
            }
            #expect(requests("POST", "/api/whoami", 200) == 1)
            #expect(requests("POST", "/api/whoami", 401) == 2)
            #expect(requests("POST", "/webhooks/test", 200) == 2)
            #expect(requests("GET", "NotFound", 404) == 1)
            let verifications = "stripe_apps_signature_verifications_total"
            #expect(scrape[#"\#(verifications){surface="ui",result="valid"}"#] == 1)
            #expect(scrape[#"\#(verifications){surface="ui",result="no_matching_signature"}"#] == 1)
            #expect(scrape[#"\#(verifications){surface="ui",result="missing_header"}"#] == 1)
            #expect(scrape[#"\#(verifications){surface="webhook",result="valid"}"#] == 2)
            #expect(scrape[#"\#(verifications){surface="webhook",result="no_matching_signature"}"#] == 1)
            let deliveries = "stripe_apps_webhook_deliveries_total"
            #expect(scrape[#"\#(deliveries){mode="test",outcome="stored"}"#] == 1)
            #expect(scrape[#"\#(deliveries){mode="test",outcome="duplicate"}"#] == 1)
            #expect(scrape[#"\#(deliveries){mode="test",outcome="rejected"}"#] == 1)
            for value in ["acct_", "usr_", "whsec_", "absec_", "evt_"] {
                #expect(!scrape.text.contains(value), "\(value) in a label")
            }
            for name in [
                "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
                "process_start_time_seconds",
            ] {
                #expect((scrape[name] ?? 0) > 0, "\(name)")
            }
        }
    }

    /// With `METRICS_TOKEN`, a scrape needs it as a bearer token; without it, `/metrics` is open.
    @Test func metricsTokenIsRequiredWhenSet() async throws {
        var configuration = try AppConfiguration.testing()
        configuration.metricsToken = Self.token
        try await withTestApp(configuration: configuration) { client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: Self.token]] {
                let refused = try await client.execute(uri: "/metrics", method: .get, headers: headers)
                #expect(refused.status == .unauthorized)
                #expect(refused.errorCode == "unauthorized")
                #expect(refused.headers[.wwwAuthenticate] == "Bearer")
                #expect(!refused.text.contains("process_"))
            }
            let scrape = try await Self.scrape(client, token: Self.token)
            #expect(scrape["stripe_apps_signature_verifications_total"] == nil)
            #expect(scrape.text.contains("# TYPE http_server_request_duration_seconds histogram"))
            let post = try await client.execute(uri: "/metrics", method: .post)
            #expect(post.status == .methodNotAllowed)
            #expect(post.headers[.accessControlAllowOrigin] == nil)
        }
        try await withTestApp { client in
            let open = try await client.execute(uri: "/metrics", method: .get)
            #expect(open.status == .ok)
        }
    }

    @Test func aShortMetricsTokenIsAConfigurationError() throws {
        func read(_ values: [String: String]) throws -> AppConfiguration {
            try AppConfiguration(
                reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values)))
        }
        let error = #expect(throws: ConfigurationError.self) { try read(["METRICS_TOKEN": "short"]) }
        #expect(error?.description.contains("METRICS_TOKEN") == true)
        #expect(error?.description.contains("short") == false, "the value is not repeated")
        let configuration = try read(["METRICS_TOKEN": Self.token])
        #expect(configuration.metricsToken == Self.token)
    }

    /// Handler runs by type and result, the inbox gauges from storage (not read by the scrape itself), and the
    /// oldest pending event's age computed at scrape time.
    @Test func handlerRunsAndInboxGaugesFollowTheInbox() async throws {
        let shouldFail = Mutex(true)
        var handlers = EventHandlers()
        handlers.on("invoice.paid") { _ in
            if shouldFail.withLock({ $0 }) { throw URLError(.timedOut) }
        }
        let metrics = AppMetrics()
        let hooks = ApplicationHooks(now: { testNow }, eventHandlers: handlers, metrics: metrics)
        let harness = try InboxWorkerTests.Harness(hooks: hooks) { configuration in
            configuration.eventMaxAttempts = 2
            configuration.eventRetryBaseSeconds = 0
            configuration.eventRetryMaxSeconds = 0
        }
        harness.worker.recordMetrics(into: metrics)
        let (store, worker) = (harness.store, harness.worker)
        let gauges = StorageGauges(
            statistics: store.statistics, metrics: metrics, now: { testNow }, logger: Logger(label: "test"))
        try await Application(router: harness.router).test(.router) { client in
            try await InboxWorkerTests.Harness.deliver(
                InboxWorkerTests.event("evt_paid", type: "invoice.paid", created: 1), client)
            #expect(await gauges.read())
            var scrape = try await Self.scrape(client)
            #expect(scrape[#"stripe_apps_inbox_events{status="pending"}"#] == 1)
            #expect(scrape["stripe_apps_storage_statistics_timestamp_seconds"] == testNow.timeIntervalSince1970)

            for _ in 0..<3 { try await worker.processDueEvents() }
            #expect(await gauges.read())
            scrape = try await Self.scrape(client)
            let runs = "stripe_apps_event_handler_runs_total"
            #expect(scrape[#"\#(runs){event_type="invoice.paid",result="failed"}"#] == 2)
            #expect(scrape[#"stripe_apps_event_handler_duration_seconds_count{event_type="invoice.paid"}"#] == 2)
            #expect(scrape[#"stripe_apps_inbox_events{status="dead"}"#] == 1)
            #expect(scrape[#"stripe_apps_inbox_events{status="pending"}"#] == 0)
            #expect(scrape["stripe_apps_inbox_oldest_pending_age_seconds"] == 0)

            shouldFail.withLock { $0 = false }
            #expect(try await store.inbox.replay(id: "evt_paid"))
            try await worker.processDueEvents()
            scrape = try await Self.scrape(client)
            #expect(scrape[#"\#(runs){event_type="invoice.paid",result="succeeded"}"#] == 1)
        }
    }

    /// The age of the oldest pending event is computed when scraped, from the time the last read found.
    @Test func theOldestPendingAgeGrowsBetweenReads() throws {
        let metrics = AppMetrics()
        let received = Date(timeIntervalSince1970: 1_700_000_000)
        metrics.update(
            inbox: InboxCounts(byStatus: [.pending: 3], oldestPendingReceivedAt: received),
            jobs: JobCounts(byStatus: [.running: 2], oldestWaitingRunAt: received.addingTimeInterval(10)),
            readAt: received)
        let scrape = Scrape(String(decoding: metrics.exposition(now: received.addingTimeInterval(90)), as: UTF8.self))
        #expect(scrape["stripe_apps_inbox_oldest_pending_age_seconds"] == 90)
        #expect(scrape["stripe_apps_jobs_oldest_waiting_age_seconds"] == 80)
        #expect(scrape[#"stripe_apps_inbox_events{status="pending"}"#] == 3)
        #expect(scrape[#"stripe_apps_jobs{status="running"}"#] == 2)
        #expect(scrape[#"stripe_apps_jobs{status="dead"}"#] == 0)
    }

    /// A storage read that fails keeps the last values and says so in the log, once.
    @Test func anUnavailableStorageLeavesTheGaugesAsTheyWere() async throws {
        let sink = LogSink()
        let gauges = StorageGauges(
            statistics: UnavailableStorage(), metrics: AppMetrics(), now: { testNow }, logger: sink.logger)
        #expect(await gauges.read() == false)
        #expect(await gauges.read() == false)
        #expect(sink.all.components(separatedBy: "could not be read from storage").count == 2, "logged once")
    }

    /// Unknown HTTP methods are one label value, as OpenTelemetry asks: a client cannot add series at will.
    @Test func unknownMethodsAreOneLabelValue() async throws {
        try await withTestApp { client in
            for method in ["BREW", "PURGE", "XYZZY"] {
                _ = try await client.execute(uri: "/healthz", method: HTTPRequest.Method(method)!)
            }
            let scrape = try await Self.scrape(client)
            #expect(!scrape.text.contains("BREW") && !scrape.text.contains("XYZZY"))
            #expect(scrape.text.contains(#"http_request_method="_OTHER""#))
        }
    }

    /// Prometheus's own linter accepts a scrape after real traffic (Debian's `prometheus` package has `promtool`).
    @Test(
        .enabled(
            if: MetricsTests.promtoolURL != nil || isCI,
            "skipped: promtool is not installed (apt-get install prometheus)"))
    func promtoolAcceptsTheScrape() async throws {
        let promtool = try #require(Self.promtoolURL, "promtool is not installed (apt-get install prometheus)")
        let storage = InMemoryStorage()
        try await install(Tenant(accountID: "acct_promtool", mode: .test), in: storage)
        let app = try buildApplication(
            configuration: try WebhookRouteTests.configuration(), storage: storage,
            hooks: ApplicationHooks(now: { testNow }))
        try await app.test(.router) { client in
            _ = try await client.execute(
                "/api/whoami", .post, signer.post(userID: "usr_p", accountID: "acct_promtool", mode: .test))
            _ = try await client.execute(uri: "/api/whoami", method: .post)
            let event = WebhookRouteTests.event(id: "evt_promtool")
            _ = try await client.execute(
                uri: "/webhooks/test", method: .post, headers: try WebhookRouteTests.signed(event),
                body: ByteBuffer(string: event))
            _ = try await client.execute(uri: "/install/callback?state=x", method: .get)
            let scrape = try await Self.scrape(client)
            let process = Process()
            process.executableURL = promtool
            process.arguments = ["check", "metrics"]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.run()
            input.fileHandleForWriting.write(Data(scrape.text.utf8))
            try input.fileHandleForWriting.close()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "promtool: \(printed)")
            #expect(scrape.text.contains("stripe_apps_install_outcomes_total"))
        }
    }

    /// Past its limit of label sets, a family counts new ones under `_other`: no input grows the scrape without
    /// bound.
    @Test func aFamilyHoldsABoundedNumberOfSeries() {
        let metrics = AppMetrics()
        let family = MetricFamily<Counter>(labels: ["kind"], limit: 3) { labels in
            metrics.registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: "test_kinds_total", unitName: "", helpText: "Kinds."),
                labels: labels)
        }
        for kind in ["a", "b", "c", "d", "e", "a"] { family(kind).increment() }
        let scrape = Scrape(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(scrape[#"test_kinds_total{kind="a"}"#] == 2)
        #expect(scrape[#"test_kinds_total{kind="c"}"#] == 1)
        #expect(scrape[#"test_kinds_total{kind="_other"}"#] == 2)
        #expect(scrape[#"test_kinds_total{kind="d"}"#] == nil)
    }

    /// `/proc/self/stat` is read from the last `)`: a command name with spaces and parentheses does not shift the
    /// fields (proc(5)).
    @Test func procStatIsParsedPastTheCommandName() throws {
        let line =
            "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 9 0 777 123456789 3000 18446744073709551615"
        let stat = try #require(ProcessMetrics.parseStat(line))
        #expect(stat.userTicks == 150 && stat.systemTicks == 25 && stat.startTicks == 777)
        #expect(stat.virtualBytes == 123_456_789 && stat.residentPages == 3000)
        #expect(ProcessMetrics.parseStat("garbage") == nil)
        #expect(ProcessMetrics.parseStat("1 (x) S 1 2") == nil)
        #expect(ProcessMetrics.readStat() != nil, "this process's own stat parses")
    }

    static let promtoolURL: URL? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("promtool")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()
}
