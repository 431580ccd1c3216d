import Prometheus
import Synchronization

/// One labelled metric family, its series cached by label values.
///
/// The registry validates names and labels and looks the series up under its lock on every call; on the request
/// path that would cost more than the observation. This keeps one dictionary lookup instead, and bounds the
/// number of series: past ``limit`` distinct label sets, new ones are counted under `_other` in every label, so
/// no input can grow the scrape without bound.
package final class MetricFamily<Metric: AnyObject & Sendable>: Sendable {
    private let labelNames: [String]
    private let limit: Int
    private let make: @Sendable ([(String, String)]) -> Metric
    private let series = Mutex<[[String]: Metric]>([:])

    package init(labels: [String], limit: Int = 500, make: @escaping @Sendable ([(String, String)]) -> Metric) {
        labelNames = labels
        self.limit = limit
        self.make = make
    }

    /// The series of these label values, one per label name, in order.
    package func callAsFunction(_ values: String...) -> Metric {
        self[values]
    }

    package subscript(values: [String]) -> Metric {
        if let found = series.withLock({ $0[values] }) { return found }
        let full = series.withLock { $0.count >= limit }
        let key = full ? labelNames.map { _ in "_other" } : values
        if let found = series.withLock({ $0[key] }) { return found }
        // The registry hands out one instance per label set, so two threads creating the same one agree.
        let metric = make(Array(zip(labelNames, key)))
        series.withLock { $0[key] = metric }
        return metric
    }
}

extension MetricFamily where Metric == Counter {
    convenience init(_ registry: PrometheusCollectorRegistry, _ name: String, labels: [String], help: String) {
        self.init(labels: labels) { registry.makeCounter(descriptor: .init(name, help), labels: $0) }
    }
}

extension MetricFamily where Metric == Gauge {
    convenience init(_ registry: PrometheusCollectorRegistry, _ name: String, labels: [String], help: String) {
        self.init(labels: labels) { registry.makeGauge(descriptor: .init(name, help), labels: $0) }
    }
}

extension MetricFamily where Metric == DurationHistogram {
    convenience init(
        _ registry: PrometheusCollectorRegistry, _ name: String, labels: [String], buckets: [Duration], help: String
    ) {
        self.init(labels: labels) {
            registry.makeDurationHistogram(descriptor: .init(name, help), labels: $0, buckets: buckets)
        }
    }
}

extension MetricNameDescriptor {
    /// A descriptor of the whole name as written (the names follow the documented ones exactly, suffix included).
    init(_ name: String, _ help: String) {
        self.init(metricName: name, unitName: "", helpText: help)
    }
}
