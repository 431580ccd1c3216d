public import Prometheus
public import StripeApps
public import StripeAppsAPI
import Synchronization

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The backend's metrics, in one Prometheus registry per application, served at `GET /metrics`.
///
/// Every family has a fixed name and bounded labels: no label ever holds an account id, a user id, a secret or a
/// raw path. Event types and job names come from the handlers and jobs the app registered, routes are templates,
/// and each family holds at most 500 label sets (``MetricFamily``). See `Docs/operations.md` for the list.
public final class AppMetrics: Sendable {
    /// The registry the families live in; an app may add its own metrics to it.
    public let registry: PrometheusCollectorRegistry

    private let httpDuration: MetricFamily<DurationHistogram>
    private let verifications: MetricFamily<Counter>
    private let deliveries: MetricFamily<Counter>
    private let inboxEvents: MetricFamily<Gauge>
    private let inboxOldestPendingAge: Gauge
    private let jobsByStatus: MetricFamily<Gauge>
    private let jobsOldestWaitingAge: Gauge
    private let statisticsTimestamp: Gauge
    private let handlerRuns: MetricFamily<Counter>
    private let handlerDuration: MetricFamily<DurationHistogram>
    private let stripeRequests: MetricFamily<Counter>
    private let stripeDuration: MetricFamily<DurationHistogram>
    private let oauthRefreshes: MetricFamily<Counter>
    private let installOutcomes: MetricFamily<Counter>
    private let jobRuns: MetricFamily<Counter>
    private let jobDuration: MetricFamily<DurationHistogram>
    private let jobStartLag: MetricFamily<DurationHistogram>
    private let process: ProcessMetrics
    /// The last counts read from storage, so that ages are computed at scrape time.
    private let oldest = Mutex<(inbox: Date?, jobs: Date?)>((nil, nil))

    /// OpenTelemetry's default buckets for `http.server.request.duration`, in seconds.
    static let httpBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(75),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .milliseconds(750), .seconds(1),
        .milliseconds(2500), .seconds(5), .milliseconds(7500), .seconds(10),
    ]
    /// Buckets for handler and job runs and for calls to other services: 5 ms to 5 minutes.
    static let runBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]
    /// Buckets for how late a job started: 100 ms to an hour.
    static let lagBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60),
        .seconds(300), .seconds(900), .seconds(3600),
    ]

    /// Creates the metrics in a new registry, or in `registry`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let r = registry
        httpDuration = MetricFamily(
            r, "http_server_request_duration_seconds",
            labels: ["http_request_method", "http_route", "http_response_status_code"], buckets: Self.httpBuckets,
            help: "Duration of HTTP server requests, by method, route template and status.")
        verifications = MetricFamily(
            r, "stripe_apps_signature_verifications_total", labels: ["surface", "result"],
            help: "Stripe signature checks by surface (ui, webhook, install) and result (valid or the error code).")
        deliveries = MetricFamily(
            r, "stripe_apps_webhook_deliveries_total", labels: ["mode", "outcome"],
            help: "Webhook deliveries by endpoint mode and outcome (stored, duplicate, rejected).")
        inboxEvents = MetricFamily(
            r, "stripe_apps_inbox_events", labels: ["status"], help: "Events in the inbox by status.")
        inboxOldestPendingAge = r.makeGauge(
            descriptor: .init(
                "stripe_apps_inbox_oldest_pending_age_seconds",
                "Seconds since the oldest event waiting for its first run was received (0 when none waits)."))
        jobsByStatus = MetricFamily(r, "stripe_apps_jobs", labels: ["status"], help: "Jobs in the queue by status.")
        jobsOldestWaitingAge = r.makeGauge(
            descriptor: .init(
                "stripe_apps_jobs_oldest_waiting_age_seconds",
                "Seconds the oldest due job has waited past its run time (0 when none is late)."))
        statisticsTimestamp = r.makeGauge(
            descriptor: .init(
                "stripe_apps_storage_statistics_timestamp_seconds",
                "When the inbox and job gauges were last read from storage (unix time)."))
        handlerRuns = MetricFamily(
            r, "stripe_apps_event_handler_runs_total", labels: ["event_type", "result"],
            help: "Runs of an event's handlers by event type and result (succeeded, failed, timed_out).")
        handlerDuration = MetricFamily(
            r, "stripe_apps_event_handler_duration_seconds", labels: ["event_type"], buckets: Self.runBuckets,
            help: "Duration of a run of an event's handlers.")
        stripeRequests = MetricFamily(
            r, "stripe_apps_stripe_api_requests_total", labels: ["method", "status", "attempt"],
            help: "Stripe API attempts by method, HTTP status (none: no answer) and attempt (first or retry).")
        stripeDuration = MetricFamily(
            r, "stripe_apps_stripe_api_request_duration_seconds", labels: ["method"], buckets: Self.runBuckets,
            help: "Duration of one Stripe API attempt.")
        oauthRefreshes = MetricFamily(
            r, "stripe_apps_oauth_refreshes_total", labels: ["result"],
            help: "OAuth token refreshes by result (succeeded, failed).")
        installOutcomes = MetricFamily(
            r, "stripe_apps_install_outcomes_total", labels: ["outcome"],
            help: "Install links and callbacks by outcome (started, installed, or the error code of the page shown).")
        jobRuns = MetricFamily(
            r, "stripe_apps_job_runs_total", labels: ["job", "result"],
            help: "Job runs by job name and result (succeeded, failed, timed_out, stopped, interrupted).")
        jobDuration = MetricFamily(
            r, "stripe_apps_job_run_duration_seconds", labels: ["job"], buckets: Self.runBuckets,
            help: "Duration of a job run.")
        jobStartLag = MetricFamily(
            r, "stripe_apps_job_start_lag_seconds", labels: ["job"], buckets: Self.lagBuckets,
            help: "How long after its run time (its schedule slot plus jitter, or its retry time) a job started.")
        process = ProcessMetrics(registry: r)
        for status in InboxEvent.Status.all { inboxEvents[[status.description]].set(Double(0)) }
        for status in JobRecord.Status.all { jobsByStatus[[status.description]].set(Double(0)) }
    }

    // MARK: Recording

    /// Where a Stripe signature was checked.
    public enum Surface: String, Sendable {
        /// A signed call of the UI extension.
        case ui
        /// A webhook delivery.
        case webhook
        /// An install redirect's `install_signature`.
        case install
    }

    /// One HTTP request answered.
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        httpDuration[[method, route, String(status)]].record(duration)
    }

    /// One signature check: `result` is `valid` or the error code.
    func recordVerification(_ surface: Surface, result: String) {
        verifications[[surface.rawValue, result]].increment()
    }

    /// One webhook delivery: `outcome` is `stored`, `duplicate` or `rejected`.
    func recordDelivery(isLiveEndpoint: Bool, outcome: String) {
        deliveries[[isLiveEndpoint ? "live" : "test", outcome]].increment()
    }

    /// One run of an event's handlers.
    func recordHandlerRun(eventType: String, result: String, duration: Duration) {
        handlerRuns[[eventType, result]].increment()
        handlerDuration[[eventType]].record(duration)
    }

    /// One install page or redirect.
    func recordInstall(outcome: String) {
        installOutcomes[[outcome]].increment()
    }

    /// One job run: how late it started, how long it ran and how it ended.
    func recordJobRun(name: String, result: String, lag: Duration, duration: Duration) {
        jobRuns[[name, result]].increment()
        jobDuration[[name]].record(duration)
        jobStartLag[[name]].record(max(.zero, lag))
    }

    /// Records Stripe API attempts and OAuth refreshes of the clients configured with it.
    public var stripeAPIObserver: StripeAPIObserver {
        StripeAPIObserver(
            attemptEnded: { [self] attempt in
                stripeRequests[
                    [attempt.method, attempt.status.map(String.init) ?? "none", attempt.retry == 0 ? "first" : "retry"]
                ].increment()
                stripeDuration[[attempt.method]].record(attempt.duration)
            },
            oauthRefreshEnded: { [self] succeeded in oauthRefreshes[[succeeded ? "succeeded" : "failed"]].increment() }
        )
    }

    /// Sets the inbox and job gauges from counts read from storage at `readAt`.
    public func update(inbox: InboxCounts, jobs: JobCounts, readAt: Date) {
        for (status, count) in inbox.byStatus { inboxEvents[[status.description]].set(Double(count)) }
        for (status, count) in jobs.byStatus { jobsByStatus[[status.description]].set(Double(count)) }
        oldest.withLock { $0 = (inbox.oldestPendingReceivedAt, jobs.oldestWaitingRunAt) }
        statisticsTimestamp.set(readAt.timeIntervalSince1970)
    }

    /// The scrape: process metrics and ages brought up to `now`, then every family in the Prometheus text format.
    public func exposition(now: Date = Date()) -> [UInt8] {
        process.update()
        let (inbox, jobs) = oldest.withLock { $0 }
        inboxOldestPendingAge.set(inbox.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        jobsOldestWaitingAge.set(jobs.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        return registry.emitToBuffer()
    }
}
