#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The server-side halves of the install flow's one-time values: CSRF states, install tickets and link codes
/// (see ``InstallState``).
public protocol InstallStateStore: Sendable {
    /// Stores a new value.
    func save(_ state: InstallState) async throws
    /// Removes and returns the value of this kind with this hash if it exists and has not expired at `now` (at
    /// most once, even under concurrent calls); expired values are removed as well.
    func consume(_ kind: InstallState.Kind, hash: String, now: Date) async throws -> InstallState?
    /// The state with this hash if it exists and has not expired at `now`, without consuming it (the OAuth
    /// callback checks it before it spends the code).
    func state(hash: String, now: Date) async throws -> InstallState?
    /// Consumes the state with this hash, as ``consume(_:hash:now:)``, and in the same transaction stores what
    /// `followUp` returns for it: its event in the inbox (unless one with that id exists; held, as
    /// ``EventInbox/enqueue(_:)`` holds one, when its tenant is blocked) and its link code.
    /// Either everything is stored or nothing, so a crash or an error never leaves a consumed state whose install
    /// is forgotten; returns `nil`, storing nothing, when the state is unknown, used or expired.
    func complete(hash: String, now: Date, _ followUp: @Sendable (InstallState) -> InstallFollowUp) async throws
        -> InstallState?
    /// Deletes every value that expired at `now`; returns how many. The server calls it on a timer, so values of
    /// install links nobody finished do not pile up between callbacks.
    func deleteExpired(now: Date) async throws -> Int
}

extension InstallStateStore {
    /// Consumes the CSRF state with this hash (``consume(_:hash:now:)`` of kind ``InstallState/Kind/state``).
    public func consume(hash: String, now: Date) async throws -> InstallState? {
        try await consume(.state, hash: hash, now: now)
    }
}
