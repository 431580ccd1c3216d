#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The server-side halves of install links' one-time CSRF states.
public protocol InstallStateStore: Sendable {
    /// Stores a new install-link state.
    func save(_ state: InstallState) async throws
    /// Removes and returns the state with this hash if it exists and has not expired at `now` (at most once,
    /// even under concurrent calls); expired states are removed as well.
    func consume(hash: String, now: Date) async throws -> InstallState?
    /// Deletes every state that expired at `now`; returns how many. The server calls it on a timer, so states of
    /// install links nobody finished do not pile up between callbacks.
    func deleteExpired(now: Date) async throws -> Int
}
