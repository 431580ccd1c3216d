#if canImport(FoundationEssentials)
    package import FoundationEssentials
#else
    package import Foundation
#endif

/// An inbox event leased to one worker by ``EventInbox/claim(now:limit:lease:owner:)``.
public struct ClaimedEvent: Sendable, Hashable {
    /// The event as claimed: running, with ``InboxEvent/attempts`` counting this run.
    public let event: InboxEvent
    /// The fencing token of this claim: every claim of the event gets a larger one, and only the current one
    /// may complete, fail or extend it.
    public let token: Int64
    /// The worker that holds the lease.
    public let owner: String
    /// Whether the event's tenant was blocked (``TenantBlock``) when the claim was made, as read by the statement
    /// that made it, so that a worker starting the event soon after needs no read of its own; `nil` when the
    /// claim did not read it (the worker then reads the installation). `false` for an event with no account.
    public let tenantBlockedWhenClaimed: Bool?

    /// Creates a claim.
    public init(event: InboxEvent, token: Int64, owner: String, tenantBlockedWhenClaimed: Bool? = nil) {
        self.event = event
        self.token = token
        self.owner = owner
        self.tenantBlockedWhenClaimed = tenantBlockedWhenClaimed
    }

    /// The event id.
    public var id: String { event.id }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    package var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
