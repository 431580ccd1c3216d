/// The two-sided time window a signature timestamp must fall into.
///
/// A signature is accepted when `|now − t| ≤ seconds`. Stripe's libraries only reject timestamps that are
/// too old and, through their docs samples, are often used with no window at all; this type has no way
/// to switch the window off: a replayed request stays usable only for `seconds` either side of `t`.
public struct SignatureTolerance: Sendable, Hashable, CustomStringConvertible {
    /// The largest accepted distance between the signature timestamp and now, in seconds.
    public let seconds: Int64

    /// Five minutes, the default of Stripe's libraries and of this package.
    public static let `default` = SignatureTolerance(uncheckedSeconds: 300)

    /// Creates a window of `seconds` either side of now.
    ///
    /// - Parameter seconds: At least 1.
    /// - Throws: ``SignatureError/Code/invalidTolerance`` for zero or a negative value.
    public init(seconds: Int64) throws(SignatureError) {
        guard seconds >= 1 else { throw SignatureError(.invalidTolerance) }
        self.seconds = seconds
    }

    private init(uncheckedSeconds: Int64) {
        self.seconds = uncheckedSeconds
    }

    /// Whether `timestamp` is within the window around `now` (both Unix seconds).
    public func contains(_ timestamp: Int64, now: Int64) -> Bool {
        let (difference, overflow) = now.subtractingReportingOverflow(timestamp)
        return !overflow && difference.magnitude <= seconds.magnitude
    }

    public var description: String { "\(seconds) s" }
}
