#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The durable webhook inbox: events are stored once, then claimed by workers under a lease.
///
/// A worker ``claim(now:limit:lease:owner:)``s due events, runs their handlers, then reports with
/// ``complete(_:)`` or ``fail(_:error:retryAt:)``; while handlers run it extends the lease with
/// ``heartbeat(_:now:lease:)``. Every claim bumps the event's fencing token, so a worker whose lease expired
/// (it stalled, or died) can no longer record anything for that event: another worker claimed it again.
///
/// Clocks: in-memory and SQLite backends, owned by one process, use the `now` they are given. PostgreSQL,
/// shared by several instances, takes lease times from the database clock so that instances with skewed
/// clocks agree on when a lease ends; retry times (`retryAt`) are compared with the `now` given.
public protocol EventInbox: Sendable {
    /// Stores an event unless one with its id is there already.
    ///
    /// An event of a tenant whose installation is blocked is held: stored ``InboxEvent/Status/blocked`` whatever
    /// status it came with, in the same statement, so that no read before it can miss a block committed in
    /// between; the answer is ``InboxArrival/held``. Otherwise the answer is ``InboxArrival/stored``, or
    /// ``InboxArrival/duplicate``, which changes nothing.
    ///
    /// When this returns, the event is durable (committed, and synced to disk): only then may the webhook
    /// endpoint answer 2xx.
    @discardableResult
    func enqueue(_ event: InboxEvent) async throws -> InboxArrival
    /// Stores an event unless one with its id is there already, leased at once to `owner` for `lease` from `now`
    /// (the instance that received it runs it, with no claim in between); answers ``InboxArrival/claimed(_:)``
    /// with the claim (running, one attempt, the first fencing token), ``InboxArrival/held`` for an event of a
    /// blocked tenant (stored blocked, not leased, as ``enqueue(_:)`` holds it), or ``InboxArrival/duplicate``,
    /// which changes nothing.
    ///
    /// Durable when it returns, as ``enqueue(_:)``. If `owner` never reports, the lease expires and any worker
    /// claims the event, as after a claim.
    @discardableResult
    func enqueue(_ event: InboxEvent, claimingFor owner: String, now: Date, lease: Duration) async throws
        -> InboxArrival
    /// Inbox events, newest first, optionally of one status.
    func events(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent]
    /// Leases up to `limit` due events to `owner`, oldest first: pending ones, failed ones whose retry time has
    /// come, and running ones whose lease expired. Each claimed event becomes running, counts one more attempt
    /// and gets a new fencing token; no event is claimed twice at once, by any number of concurrent callers.
    func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedEvent]
    /// Records that the handlers succeeded; returns `false`, changing nothing, when the claim lost its lease.
    func complete(_ claim: ClaimedEvent) async throws -> Bool
    /// Records a failure: the event is retried once `retryAt` has come, or is dead when it is `nil`. Returns
    /// `false`, changing nothing, when the claim lost its lease.
    func fail(_ claim: ClaimedEvent, error: String, retryAt: Date?) async throws -> Bool
    /// Records that the event was not run because its tenant is blocked: it becomes
    /// ``InboxEvent/Status/blocked``, with ``InboxEvent/blockedNote`` as its error. Returns `false`, changing
    /// nothing, when the claim lost its lease.
    func setAsideBlocked(_ claim: ClaimedEvent) async throws -> Bool
    /// Extends the leases of claims still held to `lease` from now; returns the ids of those extended.
    func heartbeat(_ claims: [ClaimedEvent], now: Date, lease: Duration) async throws -> Set<String>
    /// Makes an event pending again with no attempts counted (a manual replay starts it over, with every retry of
    /// the policy), ending any lease; returns `false` when there is no such event, or its payload was pruned.
    func replay(id: String) async throws -> Bool
    /// Deletes the payload and error text of up to `limit` finished events (succeeded, dead or blocked) received
    /// within `range`, keeping the rest of each row, so a late redelivery of its id is still a duplicate; returns
    /// how many it pruned. Events still to run are never pruned.
    func prune(receivedIn range: Range<Date>, limit: Int) async throws -> Int
}
