import Crypto

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The server-side half of an install link's CSRF `state`: stored when `/install` runs, consumed once by the
/// callback.
///
/// Only a SHA-256 of the state is stored, so a copy of the database does not give out usable states.
public struct InstallState: Sendable, Hashable {
    /// Lowercase hex SHA-256 of the state value.
    public let stateHash: String
    /// The app's own opaque value, passed through the install (e.g. its user id); never put in a URL.
    public let appValue: String?
    /// The mode the install was started for (`/install?mode=test`), which an OAuth callback needs to pick the
    /// secret key its code is exchanged with; `nil` when not given.
    public let mode: Tenant.Mode?
    /// When `/install` created it.
    public let createdAt: Date
    /// When it stops being accepted.
    public let expiresAt: Date

    /// Creates a record.
    public init(stateHash: String, appValue: String?, mode: Tenant.Mode? = nil, createdAt: Date, expiresAt: Date) {
        self.stateHash = stateHash
        self.appValue = appValue
        self.mode = mode
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// The hash stored for a state value.
    public static func hash(of state: String) -> String {
        Hex.encode(SHA256.hash(data: Array(state.utf8)))
    }

    /// A new state value: 32 random bytes from the system's secure generator, as lowercase hex.
    public static func newStateValue() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
