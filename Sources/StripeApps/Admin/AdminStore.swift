#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// What the admin pages read and do beyond the other roles: filtered, paged listings of the inbox and of the
/// installations, one event with its payload, a replay or a discard of one event, a bulk replay, and counts of
/// installations.
///
/// Every listing is bounded by its `limit` and pages with a position taken from the last row of the page before,
/// so a page costs the same however deep it is. Replays and discards also append a record to the tenant's audit
/// log (``CredentialStore/auditRecords(for:)``) when the event has an account, in the same transaction.
///
/// ```swift
/// let dead = try await storage.admin.events(matching: InboxFilter(status: .dead), after: nil, limit: 50)
/// let action = AdminAction(actor: "admin session 1f2e3d4c", date: Date())
/// _ = try await storage.admin.replay(id: dead[0].id, by: action)
/// ```
public protocol AdminStore: Sendable {
    /// Inbox events matching `filter`, newest first (by arrival, then id, descending), starting after the event
    /// whose id is `position` (from the newest when `nil`; nothing when no event has that id), at most `limit`.
    func events(matching filter: InboxFilter, after position: String?, limit: Int) async throws -> [InboxEvent]
    /// One inbox event, with its payload and last error, or `nil`.
    func event(id: String) async throws -> InboxEvent?
    /// Makes the event pending again as ``EventInbox/replay(id:)`` does, unless a worker is running it or its
    /// payload is gone (pruned or discarded), and records `action` in its tenant's audit log; returns the event as
    /// it is then (`pending` when replayed), or `nil` when there is no such event.
    func replay(id: String, by action: AdminAction) async throws -> InboxEvent?
    /// Replays, as ``replay(id:by:)``, the first `limit` events (at most ``InboxFilter/maximumBulkReplay``) matching
    /// `filter` in listing order that are not running and still have their payload; returns how many.
    func replayAll(matching filter: InboxFilter, limit: Int, by action: AdminAction) async throws -> Int
    /// Discards an event that has not succeeded and is not running: it becomes `dead` without running, its payload
    /// is deleted (so nothing can replay it, while a redelivery of its id is still a duplicate), and its error
    /// says who discarded it (``InboxEvent/isDiscarded``); the tenant's audit log records it. Returns the event as
    /// it is then (unchanged when it could not be discarded), or `nil` when there is no such event.
    func discard(id: String, by action: AdminAction) async throws -> InboxEvent?
    /// Installation records matching `filter`, ordered by account then mode (test first), starting after the
    /// tenant `position` (from the start when `nil`), at most `limit`.
    func installations(matching filter: InstallationFilter, after position: Tenant?, limit: Int) async throws
        -> [Installation]
    /// How many installation records there are of each mode and status (pairs with none are left out).
    func installationCounts() async throws -> [InstallationCount]
    /// Blocks a tenant that has an installation record (a tombstone will do), in one transaction: the record gets
    /// a ``TenantBlock`` with `reason` (at most ``TenantBlock/maximumReasonLength`` characters are kept) and
    /// `action`'s actor and date, the tenant's pending and failed jobs are cancelled and its running ones asked to
    /// stop, and its audit log records it (``AdminAction/blockAuditRecord(of:isBlocking:reason:)``). Returns the
    /// record as it is then (unchanged, with its first block, when the tenant was blocked already), or `nil` when
    /// the tenant has no installation record.
    func block(_ tenant: Tenant, reason: String?, by action: AdminAction) async throws -> Installation?
    /// Lifts a tenant's block, recording it in its audit log in the same transaction; what was set aside while it
    /// was blocked stays so (replay blocked events, or jobs, to run them). Returns the record as it is then
    /// (unchanged when it was not blocked), or `nil` when the tenant has no installation record.
    func unblock(_ tenant: Tenant, by action: AdminAction) async throws -> Installation?
}

/// Which inbox events a listing or a bulk replay takes; every condition set must hold.
public struct InboxFilter: Sendable, Hashable {
    /// Only events in this status.
    public var status: InboxEvent.Status?
    /// Only events of exactly this type.
    public var type: String?
    /// Only events of this account.
    public var accountID: String?
    /// Only live or only test events.
    public var mode: Tenant.Mode?

    /// Creates a filter; `nil` conditions take every event.
    public init(
        status: InboxEvent.Status? = nil, type: String? = nil, accountID: String? = nil, mode: Tenant.Mode? = nil
    ) {
        self.status = status
        self.type = type
        self.accountID = accountID
        self.mode = mode
    }

    /// The most events one bulk replay changes: 1,000, as River's admin UI caps bulk actions.
    public static let maximumBulkReplay = 1000

    /// Whether `event` matches: the rule every backend's query states.
    public func matches(_ event: InboxEvent) -> Bool {
        (status.map { event.status == $0 } ?? true) && (type.map { event.type == $0 } ?? true)
            && (accountID.map { event.accountID == $0 } ?? true) && (mode.map { event.isLiveMode == $0.isLive } ?? true)
    }
}

/// Which installation records a listing takes; every condition set must hold.
public struct InstallationFilter: Sendable, Hashable {
    /// Only accounts whose id contains this text (case-sensitive, as account ids are).
    public var accountContains: String?
    /// Only this mode.
    public var mode: Tenant.Mode?
    /// Only this status.
    public var status: Installation.Status?
    /// Only blocked tenants (`true`) or only tenants not blocked (`false`).
    public var isBlocked: Bool?

    /// Creates a filter; `nil` conditions take every record.
    public init(
        accountContains: String? = nil, mode: Tenant.Mode? = nil, status: Installation.Status? = nil,
        isBlocked: Bool? = nil
    ) {
        self.accountContains = accountContains
        self.mode = mode
        self.status = status
        self.isBlocked = isBlocked
    }

    /// Whether `installation` matches: the rule every backend's query states.
    public func matches(_ installation: Installation) -> Bool {
        (accountContains.map { $0.isEmpty || installation.tenant.accountID.contains($0) } ?? true)
            && (mode.map { installation.tenant.mode == $0 } ?? true)
            && (status.map { installation.status == $0 } ?? true)
            && (isBlocked.map { installation.isBlocked == $0 } ?? true)
    }
}

/// How many installation records have one mode and status.
public struct InstallationCount: Sendable, Hashable {
    /// The mode.
    public let mode: Tenant.Mode
    /// The status.
    public let status: Installation.Status
    /// How many records.
    public let count: Int

    /// Creates a count.
    public init(mode: Tenant.Mode, status: Installation.Status, count: Int) {
        self.mode = mode
        self.status = status
        self.count = count
    }
}

/// Who did an admin action, and when: what a replay or a discard writes to the tenant's audit log.
public struct AdminAction: Sendable, Hashable {
    /// Who, e.g. `admin session 1f2e3d4c` (never a token).
    public let actor: String
    /// When.
    public let date: Date

    /// Creates an action.
    public init(actor: String, date: Date) {
        self.actor = actor
        self.date = date
    }

    /// The audit record of `verb` (`replayed`, `discarded`) done to `event`, or `nil` for an event of no account.
    public func auditRecord(_ verb: String, of event: InboxEvent) -> AuditRecord? {
        guard let accountID = event.accountID else { return nil }
        return AuditRecord(
            tenant: Tenant(accountID: accountID, mode: event.isLiveMode ? .live : .test), action: "admin_\(verb)",
            reason: "\(event.id) \(event.type) by \(actor)", date: date)
    }

    /// The error text a discarded event keeps: ``InboxEvent/discardedErrorPrefix`` and who discarded it.
    public var discardNote: String {
        InboxEvent.storedError("\(InboxEvent.discardedErrorPrefix) by \(actor)")
    }
}

extension InboxEvent {
    /// How the error text of a discarded event starts.
    public static let discardedErrorPrefix = "Discarded by an operator"

    /// Whether an operator discarded the event (``AdminStore/discard(id:by:)``): dead, its payload deleted, its
    /// error saying who discarded it. It cannot be replayed.
    public var isDiscarded: Bool {
        status == .dead && isPruned && (lastError?.hasPrefix(Self.discardedErrorPrefix) ?? false)
    }

    /// Whether ``AdminStore/discard(id:by:)`` changes the event: it has its payload and has not run to success,
    /// and no worker is running it.
    public var isDiscardable: Bool {
        !isPruned && (status == .pending || status == .failed || status == .dead)
    }

    /// Whether ``AdminStore/replay(id:by:)`` changes the event: it has its payload and no worker is running it.
    public var isReplayable: Bool { !isPruned && status != .running }
}
