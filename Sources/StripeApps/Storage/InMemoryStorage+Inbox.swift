import Synchronization

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

extension InMemoryStorage: EventInbox {
    public func enqueue(_ event: InboxEvent) async throws -> InboxArrival {
        state.withLock { state in
            guard state.inbox[event.id] == nil else { return .duplicate }
            let stored = state.held(event) ?? event
            state.inbox[event.id] = stored
            return stored.status == .blocked ? .held : .stored
        }
    }

    public func enqueue(_ event: InboxEvent, claimingFor owner: String, now: Date, lease: Duration) async throws
        -> InboxArrival
    {
        let claimed = event.claimedOnArrival(by: owner, until: now.addingTimeInterval(lease.timeInterval))
        return state.withLock { state in
            guard state.inbox[event.id] == nil else { return .duplicate }
            if let held = state.held(event) {
                state.inbox[event.id] = held
                return .held
            }
            state.inbox[event.id] = claimed.event
            state.tokens[event.id] = claimed.token
            return .claimed(claimed)
        }
    }

    public func events(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent] {
        let events = state.withLock { Array($0.inbox.values) }
        return Array(
            events.filter { status == nil || $0.status == status }
                .sorted { ($0.receivedAt, $0.id) > ($1.receivedAt, $1.id) }
                .prefix(limit)
        )
    }

    public func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedEvent] {
        let expiry = now.addingTimeInterval(lease.timeInterval)
        return state.withLock { state in
            let due = state.inbox.values.filter { $0.isDue(at: now) }
                .sorted { ($0.created, $0.receivedAt, $0.id) < ($1.created, $1.receivedAt, $1.id) }
                .prefix(max(0, limit))
            return due.map { event in
                var claimed = event
                claimed.status = .running
                claimed.attempts += 1
                claimed.leaseOwner = owner
                claimed.leaseExpiresAt = expiry
                let token = (state.tokens[event.id] ?? 0) + 1
                state.tokens[event.id] = token
                state.inbox[event.id] = claimed
                return ClaimedEvent(
                    event: claimed, token: token, owner: owner, tenantBlockedWhenClaimed: state.held(event) != nil)
            }
        }
    }

    public func complete(_ claim: ClaimedEvent) async throws -> Bool {
        finish(claim) { event in
            event.status = .succeeded
            event.nextAttemptAt = nil
            event.lastError = nil
        }
    }

    public func fail(_ claim: ClaimedEvent, error: String, retryAt: Date?) async throws -> Bool {
        finish(claim) { event in
            event.status = retryAt == nil ? .dead : .failed
            event.nextAttemptAt = retryAt
            event.lastError = InboxEvent.storedError(error)
        }
    }

    public func setAsideBlocked(_ claim: ClaimedEvent) async throws -> Bool {
        finish(claim) { event in
            event.status = .blocked
            event.nextAttemptAt = nil
            event.lastError = InboxEvent.blockedNote
        }
    }

    public func heartbeat(_ claims: [ClaimedEvent], now: Date, lease: Duration) async throws -> Set<String> {
        let expiry = now.addingTimeInterval(lease.timeInterval)
        return state.withLock { state in
            Set(
                claims.compactMap { claim in
                    guard state.holds(claim) else { return nil }
                    state.inbox[claim.id]?.leaseExpiresAt = expiry
                    return claim.id
                }
            )
        }
    }

    public func replay(id: String) async throws -> Bool {
        state.withLock { state in
            guard var event = state.inbox[id], !event.isPruned else { return false }
            event.status = .pending
            event.attempts = 0
            event.nextAttemptAt = nil
            event.leaseOwner = nil
            event.leaseExpiresAt = nil
            state.inbox[id] = event
            // A worker still running it can no longer record anything.
            state.tokens[id, default: 0] += 1
            return true
        }
    }

    public func prune(receivedIn range: Range<Date>, limit: Int) async throws -> Int {
        state.withLock { state in
            let due = state.inbox.values
                .filter { $0.isFinished && !$0.isPruned && range.contains($0.receivedAt) }
                .sorted { ($0.receivedAt, $0.id) < ($1.receivedAt, $1.id) }
                .prefix(limit)
            for event in due { state.inbox[event.id] = event.pruned }
            return due.count
        }
    }

    private func finish(_ claim: ClaimedEvent, _ change: (inout InboxEvent) -> Void) -> Bool {
        state.withLock { state in
            guard state.holds(claim), var event = state.inbox[claim.id] else { return false }
            change(&event)
            event.leaseOwner = nil
            event.leaseExpiresAt = nil
            state.inbox[claim.id] = event
            return true
        }
    }
}

extension InMemoryStorage.State {
    /// Whether `claim` is the current lease of its event.
    func holds(_ claim: ClaimedEvent) -> Bool {
        inbox[claim.id]?.status == .running && tokens[claim.id] == claim.token
    }

    /// `event` as stored held, when its tenant's installation is blocked; `nil` otherwise.
    func held(_ event: InboxEvent) -> InboxEvent? {
        guard let accountID = event.accountID,
            installations[Tenant(accountID: accountID, mode: event.isLiveMode ? .live : .test)]?.isBlocked == true
        else { return nil }
        return event.held
    }
}

extension InboxEvent {
    /// The event as stored for a blocked tenant: blocked, with no attempt and no lease (the rule the SQL backends'
    /// inserts state).
    var held: InboxEvent {
        var event = self
        event.status = .blocked
        event.attempts = 0
        event.nextAttemptAt = nil
        event.leaseOwner = nil
        event.leaseExpiresAt = nil
        return event
    }

    /// The claim an event stored by ``EventInbox/enqueue(_:claimingFor:now:lease:)`` gets: running, its first
    /// attempt, the first fencing token.
    package func claimedOnArrival(by owner: String, until expiry: Date) -> ClaimedEvent {
        var event = self
        event.status = .running
        event.attempts = 1
        event.nextAttemptAt = nil
        event.lastError = nil
        event.leaseOwner = owner
        event.leaseExpiresAt = expiry
        // Every backend's insert holds an event of a blocked tenant instead of claiming it.
        return ClaimedEvent(event: event, token: 1, owner: owner, tenantBlockedWhenClaimed: false)
    }

    /// Whether a worker may claim the event at `now`: the rule every backend's claim query states.
    package func isDue(at now: Date) -> Bool {
        switch status {
        case .pending: true
        case .failed: nextAttemptAt.map { $0 <= now } ?? true
        case .running: leaseExpiresAt.map { $0 <= now } ?? true
        default: false
        }
    }
}
