import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension InMemoryStorage: AdminStore {
    public func events(matching filter: InboxFilter, after position: String?, limit: Int) async throws
        -> [InboxEvent]
    {
        state.withLock { $0.listing(filter, after: position, limit: limit) }
    }

    public func event(id: String) async throws -> InboxEvent? {
        state.withLock { $0.inbox[id] }
    }

    public func replay(id: String, by action: AdminAction) async throws -> InboxEvent? {
        state.withLock { state in
            guard let event = state.inbox[id] else { return nil }
            guard event.isReplayable else { return event }
            return state.replay(event, by: action)
        }
    }

    public func replayAll(matching filter: InboxFilter, limit: Int, by action: AdminAction) async throws -> Int {
        state.withLock { state in
            let chosen = state.listing(filter, after: nil, limit: Int.max) { $0.isReplayable }
                .prefix(max(0, min(limit, InboxFilter.maximumBulkReplay)))
            for event in chosen { state.replay(event, by: action) }
            return chosen.count
        }
    }

    public func discard(id: String, by action: AdminAction) async throws -> InboxEvent? {
        state.withLock { state in
            guard var event = state.inbox[id] else { return nil }
            guard event.isDiscardable else { return event }
            event = InboxEvent(
                id: event.id, type: event.type, isLiveMode: event.isLiveMode, accountID: event.accountID,
                created: event.created, receivedAt: event.receivedAt, status: .dead, attempts: event.attempts,
                payload: "", lastError: action.discardNote)
            state.inbox[id] = event
            state.tokens[id, default: 0] += 1
            state.appendAudit(action.auditRecord("discarded", of: event))
            return event
        }
    }

    public func installations(matching filter: InstallationFilter, after position: Tenant?, limit: Int) async throws
        -> [Installation]
    {
        func key(_ tenant: Tenant) -> (String, Tenant.Mode) { (tenant.accountID, tenant.mode) }
        return state.withLock { state in
            Array(
                state.installations.values
                    .filter { installation in
                        filter.matches(installation) && (position.map { key($0) < key(installation.tenant) } ?? true)
                    }
                    .sorted { key($0.tenant) < key($1.tenant) }
                    .prefix(max(0, limit)))
        }
    }

    public func block(_ tenant: Tenant, reason: String?, by action: AdminAction) async throws -> Installation? {
        state.withLock { state in
            guard var installation = state.installations[tenant] else { return nil }
            guard installation.block == nil else { return installation }
            let reason = reason.map { String($0.prefix(TenantBlock.maximumReasonLength)) }
            installation.block = TenantBlock(reason: reason, blockedBy: action.actor, blockedAt: action.date)
            state.installations[tenant] = installation
            state.cancelJobs(of: tenant, at: action.date)
            state.appendAudit(action.blockAuditRecord(of: tenant, isBlocking: true, reason: reason))
            return installation
        }
    }

    public func unblock(_ tenant: Tenant, by action: AdminAction) async throws -> Installation? {
        state.withLock { state in
            guard var installation = state.installations[tenant] else { return nil }
            guard installation.block != nil else { return installation }
            installation.block = nil
            state.installations[tenant] = installation
            state.appendAudit(action.blockAuditRecord(of: tenant, isBlocking: false, reason: nil))
            return installation
        }
    }

    public func installationCounts() async throws -> [InstallationCount] {
        state.withLock { state in
            var counts: [Tenant.Mode: [Installation.Status: Int]] = [:]
            for installation in state.installations.values {
                counts[installation.tenant.mode, default: [:]][installation.status, default: 0] += 1
            }
            return counts.flatMap { mode, byStatus in
                byStatus.map { InstallationCount(mode: mode, status: $0.key, count: $0.value) }
            }
        }
    }
}

extension InMemoryStorage.State {
    /// The events matching `filter` (and `including`) in listing order, after the event `position`.
    fileprivate func listing(
        _ filter: InboxFilter, after position: String?, limit: Int,
        including: (InboxEvent) -> Bool = { _ in true }
    ) -> [InboxEvent] {
        func key(_ event: InboxEvent) -> (Date, String) { (event.receivedAt, event.id) }
        var start: (Date, String)?
        if let position {
            guard let found = inbox[position] else { return [] }
            start = key(found)
        }
        return Array(
            inbox.values
                .filter { event in
                    filter.matches(event) && including(event) && (start.map { key(event) < $0 } ?? true)
                }
                .sorted { key($0) > key($1) }
                .prefix(max(0, limit)))
    }

    /// Makes `event` pending again, ends any lease, and records the replay.
    @discardableResult
    fileprivate mutating func replay(_ event: InboxEvent, by action: AdminAction) -> InboxEvent {
        var replayed = event
        replayed.status = .pending
        replayed.attempts = 0
        replayed.nextAttemptAt = nil
        replayed.leaseOwner = nil
        replayed.leaseExpiresAt = nil
        inbox[event.id] = replayed
        tokens[event.id, default: 0] += 1
        appendAudit(action.auditRecord("replayed", of: event))
        return replayed
    }

    /// Appends an audit record unless the same one is there (the SQL backends' unique index).
    fileprivate mutating func appendAudit(_ record: AuditRecord?) {
        guard let record,
            !audit.contains(where: {
                $0.tenant == record.tenant && $0.action == record.action && $0.reason == record.reason
            })
        else { return }
        audit.append(record)
    }
}
