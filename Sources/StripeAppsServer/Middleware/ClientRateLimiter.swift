public import Foundation
import StripeApps
import Synchronization

/// A token bucket per client address: `perMinute` requests a minute, refilled evenly, with bursts up to the same
/// number.
///
/// Hummingbird has no rate limiter; this one only has to bound anonymous traffic to a few routes of one
/// instance. The table keeps at most `maximumClients` addresses; when it is full, the address seen longest ago
/// is forgotten (its bucket has refilled the most).
public final class ClientRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        /// Time on the limiter's clock (a `Duration`, so that differences are exact).
        var updated: Duration
    }

    /// Requests a client may make per minute.
    public let perMinute: Int
    private let maximumClients: Int
    /// Time on the limiter's clock; a step back refills nothing.
    private let now: @Sendable () -> Duration
    private let buckets = Mutex<[String: Bucket]>([:])

    /// Creates a limiter on a monotonic clock.
    public convenience init(
        perMinute: Int, maximumClients: Int = 10_000,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        let origin = ContinuousClock.now
        self.init(perMinute: perMinute, maximumClients: maximumClients, time: { now() - origin })
    }

    /// Creates a limiter on the application's clock (``ApplicationHooks/now``), so that a test that fixes the
    /// clock fixes the refill too. The wall clock may step back: elapsed time is never taken as negative.
    public convenience init(perMinute: Int, maximumClients: Int = 10_000, date: @escaping @Sendable () -> Date) {
        self.init(
            perMinute: perMinute, maximumClients: maximumClients,
            time: { .seconds(date().timeIntervalSinceReferenceDate) })
    }

    private init(perMinute: Int, maximumClients: Int, time: @escaping @Sendable () -> Duration) {
        self.perMinute = max(1, perMinute)
        self.maximumClients = max(1, maximumClients)
        self.now = time
    }

    /// Takes one request from `client`'s bucket: `nil` when allowed, else how long until one is.
    public func take(_ client: String) -> Duration? {
        let instant = now()
        let capacity = Double(perMinute)
        let perSecond = capacity / 60
        return buckets.withLock { buckets -> Duration? in
            var bucket = buckets[client] ?? Bucket(tokens: capacity, updated: instant)
            bucket.tokens = min(capacity, bucket.tokens + max(0, (instant - bucket.updated).timeInterval) * perSecond)
            bucket.updated = instant
            defer {
                if buckets[client] == nil, buckets.count >= maximumClients { Self.evict(from: &buckets) }
                buckets[client] = bucket
            }
            guard bucket.tokens >= 1 else {
                return .milliseconds(Int64(((1 - bucket.tokens) / perSecond * 1000).rounded(.up)))
            }
            bucket.tokens -= 1
            return nil
        }
    }

    private static func evict(from buckets: inout [String: Bucket]) {
        let oldest = buckets.min { $0.value.updated < $1.value.updated }
        if let key = oldest?.key { buckets[key] = nil }
    }
}
