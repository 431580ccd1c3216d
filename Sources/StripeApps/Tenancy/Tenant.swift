/// One installation target: an account in one mode.
///
/// Stripe keeps live and test data of an account apart, and so does everything in this package: a tenant
/// is the pair (account, mode), and data stored for `acct_1` in test mode is invisible to `acct_1` in live
/// mode.
public struct Tenant: Hashable, Sendable, CustomStringConvertible {
    /// The Stripe account (`acct_…`).
    public let accountID: String
    /// Live or test mode.
    public let mode: Mode

    /// Creates a tenant.
    public init(accountID: String, mode: Mode) {
        self.accountID = accountID
        self.mode = mode
    }

    public var description: String { "\(accountID)/\(mode)" }
}

extension Tenant {
    /// Live or test mode of a Stripe account.
    public struct Mode: Hashable, Sendable, CustomStringConvertible, Comparable {
        /// Whether this is live mode.
        public let isLive: Bool

        /// Live mode.
        public static let live = Mode(isLive: true)
        /// Test mode (and sandboxes).
        public static let test = Mode(isLive: false)

        private init(isLive: Bool) {
            self.isLive = isLive
        }

        /// Reads `"live"` or `"test"`; anything else is `nil`.
        public init?(_ text: String) {
            switch text {
            case "live": self = .live
            case "test": self = .test
            default: return nil
            }
        }

        /// `"live"` or `"test"`.
        public var description: String { isLive ? "live" : "test" }

        public static func < (lhs: Mode, rhs: Mode) -> Bool { !lhs.isLive && rhs.isLive }
    }
}
