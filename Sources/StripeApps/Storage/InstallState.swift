import Crypto

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The server-side half of one of the install flow's one-time values: an install link's CSRF `state`, an
/// install ticket, or a link code.
///
/// - A **state** is stored when `/install` runs and consumed once by the callback.
/// - A **ticket** is issued to the app's own server for one of its logged-in users and consumed once by
///   `/install?ticket=…`, which moves the app user into the state it creates.
/// - A **link code** is created by the callback of a ticket's install, in the same transaction that consumes the
///   state, and redeemed once by the app's server with the user logged in *then*: the link takes effect only
///   if the two users are the same.
///
/// Only a SHA-256 of the value is stored, so a copy of the database does not give out usable values.
public struct InstallState: Sendable, Hashable {
    /// Which of the install flow's one-time values a record is.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        /// The stored name.
        public let description: String

        private init(_ name: String) {
            self.description = name
        }

        /// An install link's CSRF state.
        public static let state = Kind("state")
        /// An install ticket for one of the app's users.
        public static let ticket = Kind("ticket")
        /// A link code, redeemed by the app's server to link an install to its user.
        public static let linkCode = Kind("link")

        /// Every kind.
        public static let all: [Kind] = [.state, .ticket, .linkCode]

        /// Reads a stored name.
        public init?(stored: String) {
            guard let kind = Self.all.first(where: { $0.description == stored }) else { return nil }
            self = kind
        }
    }

    /// Lowercase hex SHA-256 of the value.
    public let stateHash: String
    /// Which value this is.
    public let kind: Kind
    /// The app's own user the install is for: given by the app's authenticated server when it asked for the
    /// ticket, carried by the state and the link code. Never taken from an unsigned URL.
    public let appValue: String?
    /// The mode the install was started for (`/install?mode=test`, or the ticket's); `nil` when not given. The
    /// callback refuses a redirect whose unsigned `livemode` disagrees.
    public let mode: Tenant.Mode?
    /// The installed tenant, for a link code.
    public let tenant: Tenant?
    /// The installing Stripe user, for a link code.
    public let userID: String?
    /// When it was created.
    public let createdAt: Date
    /// When it stops being accepted.
    public let expiresAt: Date

    /// Creates a record.
    public init(
        stateHash: String,
        kind: Kind = .state,
        appValue: String?,
        mode: Tenant.Mode? = nil,
        tenant: Tenant? = nil,
        userID: String? = nil,
        createdAt: Date,
        expiresAt: Date
    ) {
        self.stateHash = stateHash
        self.kind = kind
        self.appValue = appValue
        self.mode = mode
        self.tenant = tenant
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// The hash stored for a state value.
    public static func hash(of state: String) -> String {
        Hex.encode(SHA256.hash(data: Array(state.utf8)))
    }

    /// A new value: 32 random bytes from the system's secure generator, as lowercase hex.
    public static func newStateValue() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Whether `text` has the shape of a value ``newStateValue()`` makes (64 lowercase hex digits), so junk is
    /// refused before it reaches storage.
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// What an install leaves to do once its state is consumed, stored in the same transaction
/// (``InstallStateStore/complete(hash:now:_:)``): the follow-up event the worker runs (record the install,
/// run the install hook, retried until it succeeds) and, for an install started with a ticket, the link code.
public struct InstallFollowUp: Sendable, Hashable {
    /// The event put in the inbox, unless one with its id is there already.
    public let event: InboxEvent
    /// The link code to store, if any.
    public let linkCode: InstallState?

    /// Creates a follow-up.
    public init(event: InboxEvent, linkCode: InstallState?) {
        self.event = event
        self.linkCode = linkCode
    }
}
