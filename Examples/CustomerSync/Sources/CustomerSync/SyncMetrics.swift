import Prometheus

/// The app's own metrics, served at `/metrics` beside the backend's (same registry):
/// `customer_sync_customers_synced_total{trigger}` and `customer_sync_crm_errors_total{operation,kind}`.
/// Labels never hold an account, customer or key.
struct SyncMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    /// A customer change sent to the CRM, by what sent it: `event`, `nightly` or `manual`.
    func synced(trigger: String, count: Int = 1) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "customer_sync", metricName: "customers_synced", unitName: "total",
                helpText: "Customer changes sent to the CRM, by trigger."),
            labels: [("trigger", trigger)]
        ).increment(by: Int64(count))
    }

    /// A failed CRM call: `transient` (retried) or `permanent`.
    func crmError(_ error: CRMError) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "customer_sync", metricName: "crm_errors", unitName: "total",
                helpText: "Failed CRM calls, by operation and kind."),
            labels: [("operation", error.operation), ("kind", error.isTransient ? "transient" : "permanent")]
        ).increment()
    }
}
