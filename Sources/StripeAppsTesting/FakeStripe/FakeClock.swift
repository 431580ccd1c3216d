public import Foundation
import Synchronization

/// A settable clock for ``FakeStripe`` and the code under test: time moves only when a test moves it.
///
/// ```swift
/// let clock = FakeClock()
/// let stripe = FakeStripe(now: clock.provider)
/// clock.advance(by: .seconds(3601))  // OAuth access tokens issued before now have expired
/// ```
public final class FakeClock: Sendable {
    private let current: Mutex<Date>

    /// Creates a clock showing `start` (by default 2024-01-01T00:00:00Z).
    public init(_ start: Date = Date(timeIntervalSince1970: 1_704_067_200)) {
        current = Mutex(start)
    }

    /// The current time.
    public var now: Date {
        current.withLock { $0 }
    }

    /// A closure reading this clock, for `now:` parameters.
    public var provider: @Sendable () -> Date {
        { [self] in now }
    }

    /// Moves the clock forward (or, with a negative duration, back).
    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let interval = TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
        current.withLock { $0 = $0.addingTimeInterval(interval) }
    }

    /// Sets the clock to `date`.
    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}
