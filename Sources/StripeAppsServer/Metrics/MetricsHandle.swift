import StripeAppsAPI
import Synchronization

/// The ``AppMetrics`` a component records into, given once the application is built: workers and clients are made
/// before it (an app builds its job worker and hands it over), so they hold this handle and record nothing until
/// ``set(_:)``.
final class MetricsHandle: Sendable {
    private let metrics = Mutex<AppMetrics?>(nil)

    init() {}

    /// Records into `metrics` from now on.
    func set(_ metrics: AppMetrics) {
        self.metrics.withLock { $0 = metrics }
    }

    /// The metrics, once set.
    var current: AppMetrics? { metrics.withLock { $0 } }

    /// An observer of Stripe API clients that records into the metrics once they are set.
    var stripeAPIObserver: StripeAPIObserver {
        StripeAPIObserver(
            attemptEnded: { [self] attempt in current?.stripeAPIObserver.attemptEnded(attempt) },
            oauthRefreshEnded: { [self] succeeded in current?.stripeAPIObserver.oauthRefreshEnded(succeeded) })
    }
}
