import Foundation
import StripeApps
import Synchronization
import Testing

/// Blocking a tenant, on every backend: the block on the installation record (``AdminStore/block(_:reason:by:)``),
/// its audit records, the jobs it cancels and the schedules that skip it, and the inbox's `blocked` events.
@Suite struct TenantBlockContractTests {
    static let tenant = Tenant(accountID: "acct_blocked", mode: .live)
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    static func action(_ actor: String, second: Double) -> AdminAction {
        AdminAction(actor: actor, date: t0.addingTimeInterval(second))
    }

    static func install(
        _ tenant: Tenant, _ storage: TestStorage, _ action: InstallationChange.Action = .activate, second: Double = 0
    )
        async throws
    {
        _ = try await storage.installations.apply(
            InstallationChange(
                tenant: tenant, action: action,
                source: .event(type: "account.application.\(action)", id: "evt_\(second)"),
                occurredAt: t0.addingTimeInterval(second), recordedAt: t0.addingTimeInterval(second)))
    }

    /// Installs ``tenant``, the same account in test mode and another account; returns the two others.
    static func installBesideOthers(_ storage: TestStorage) async throws -> (otherMode: Tenant, other: Tenant) {
        let otherMode = Tenant(accountID: tenant.accountID, mode: .test)
        let other = Tenant(accountID: "acct_other", mode: .live)
        for tenant in [tenant, otherMode, other] { try await install(tenant, storage) }
        return (otherMode, other)
    }

    @Test(arguments: Backend.enabled)
    func aBlockNeedsARecordKeepsTheFirstOneAndEveryChangeIsAudited(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let admin = storage.admin
            #expect(try await admin.block(Self.tenant, reason: "fraud", by: Self.action("cli", second: 1)) == nil)
            #expect(try await admin.unblock(Self.tenant, by: Self.action("cli", second: 1)) == nil)
            #expect(try await storage.installations.installation(for: Self.tenant) == nil, "nothing was created")
            let sameAccountTest = Tenant(accountID: Self.tenant.accountID, mode: .test)
            try await Self.install(Self.tenant, storage)
            try await Self.install(sameAccountTest, storage)

            let blocked = try #require(
                try await admin.block(Self.tenant, reason: "fraud reports", by: Self.action("cli", second: 10)))
            let expected = TenantBlock(
                reason: "fraud reports", blockedBy: "cli", blockedAt: Self.t0.addingTimeInterval(10))
            #expect(blocked.block == expected && blocked.status == .active)
            #expect(try await storage.installations.installation(for: Self.tenant)?.block == expected)
            #expect(try await storage.installations.installation(for: sameAccountTest)?.isBlocked == false)
            // Blocking again changes nothing: the first block, its reason and its actor stay.
            let again = try await admin.block(
                Self.tenant, reason: "other", by: Self.action("admin session 1", second: 20))
            #expect(again?.block == expected)

            let unblocked = try #require(try await admin.unblock(Self.tenant, by: Self.action("cli", second: 30)))
            #expect(!unblocked.isBlocked && unblocked.status == .active)
            #expect(try await storage.installations.installation(for: Self.tenant)?.isBlocked == false)
            #expect(try await admin.unblock(Self.tenant, by: Self.action("cli", second: 40))?.isBlocked == false)
            // The same reason by the same actor later is a record of its own.
            _ = try await admin.block(Self.tenant, reason: "fraud reports", by: Self.action("cli", second: 50))
            // No reason, and a reason longer than kept.
            _ = try await admin.block(
                sameAccountTest, reason: String(repeating: "x", count: 600), by: Self.action("cli", second: 60))
            #expect(try await storage.installations.installation(for: sameAccountTest)?.block?.reason?.count == 500)

            let audit = try await storage.credentials.auditRecords(for: Self.tenant)
            #expect(audit.map(\.action) == ["admin_blocked", "admin_unblocked", "admin_blocked"])
            #expect(audit[0].reason.hasPrefix("fraud reports by cli at "))
            #expect(audit[1].reason.hasPrefix("unblocked by cli at "))
            #expect(audit.map(\.date) == [10, 30, 50].map { Self.t0.addingTimeInterval($0) })
            #expect(try await storage.credentials.auditRecords(for: sameAccountTest).map(\.action) == ["admin_blocked"])
        }
    }

    @Test(arguments: Backend.enabled)
    func aBlockOutlastsUninstallsAndReinstalls(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await Self.install(Self.tenant, storage)
            _ = try await storage.admin.block(Self.tenant, reason: nil, by: Self.action("cli", second: 5))
            try await Self.install(Self.tenant, storage, .deactivate, second: 10)
            let tombstone = try #require(try await storage.installations.installation(for: Self.tenant))
            #expect(
                tombstone.status == .inactive && tombstone.block?.reason == nil && tombstone.block?.blockedBy == "cli")
            try await Self.install(Self.tenant, storage, .activate, second: 20)
            let reinstalled = try #require(try await storage.installations.installation(for: Self.tenant))
            #expect(reinstalled.status == .active && reinstalled.isBlocked)
            #expect(
                try await storage.installations.installations().first { $0.tenant == Self.tenant }?.isBlocked == true)
            // A tombstone can be unblocked and blocked too.
            try await Self.install(Self.tenant, storage, .deactivate, second: 30)
            #expect(
                try await storage.admin.unblock(Self.tenant, by: Self.action("cli", second: 40))?.isBlocked == false)
            #expect(
                try await storage.admin.block(Self.tenant, reason: "x", by: Self.action("cli", second: 50))?.isBlocked
                    == true)
        }
    }

    @Test(arguments: Backend.enabled)
    func listingsFilterBlockedTenants(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let tenants = ["acct_a", "acct_b", "acct_c"].map { Tenant(accountID: $0, mode: .test) }
            for tenant in tenants { try await Self.install(tenant, storage) }
            _ = try await storage.admin.block(tenants[1], reason: "r", by: Self.action("cli", second: 1))
            func listed(_ filter: InstallationFilter) async throws -> [String] {
                try await storage.admin.installations(matching: filter, after: nil, limit: 10).map(\.tenant.accountID)
            }
            #expect(try await listed(InstallationFilter(isBlocked: true)) == ["acct_b"])
            #expect(try await listed(InstallationFilter(isBlocked: false)) == ["acct_a", "acct_c"])
            #expect(try await listed(InstallationFilter()) == ["acct_a", "acct_b", "acct_c"])
            let page = try await storage.admin.installations(
                matching: InstallationFilter(isBlocked: true), after: nil, limit: 10)
            #expect(page.first?.block?.reason == "r")
        }
    }

    /// Blocking cancels the tenant's waiting jobs and asks its running ones to stop; while it lasts, per-installation
    /// schedules leave the tenant out, and once lifted they include it again.
    @Test(arguments: Backend.enabled)
    func aBlockCancelsTheTenantsJobsAndSchedulesSkipItUntilUnblocked(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Date()
            let other = Tenant(accountID: "acct_other", mode: .live)
            try await Self.install(Self.tenant, storage)
            try await Self.install(other, storage)
            let running = try #require(
                try await jobs.push(NewJob(name: "r", tenant: Self.tenant, priority: 9), now: now))
            let claim = try #require(try await jobs.claim(now: now, limit: 1, lease: .seconds(600), owner: "w").first)
            #expect(claim.id == running.id)
            let pending = try #require(try await jobs.push(NewJob(name: "p", tenant: Self.tenant), now: now))
            let untouched = try #require(try await jobs.push(NewJob(name: "p", tenant: other), now: now))
            _ = try await storage.admin.block(Self.tenant, reason: nil, by: AdminAction(actor: "cli", date: now))
            #expect(try await jobs.job(id: pending.id)?.status == .cancelled)
            #expect(try await jobs.job(id: running.id)?.cancelRequested == true)
            #expect(try await jobs.heartbeat([claim], now: now, lease: .seconds(600)) == [claim.id: true])
            #expect(try await jobs.job(id: untouched.id)?.status == .pending)

            let seen = Mutex<[Tenant]>([])
            for (schedule, expected) in [("while-blocked", [other]), ("after-unblock", [other, Self.tenant])] {
                if schedule == "after-unblock" {
                    _ = try await storage.admin.unblock(Self.tenant, by: AdminAction(actor: "cli", date: now))
                }
                _ = try await storage.schedules.advance(schedule: schedule, now: now, withInstallations: true) {
                    cursor in
                    seen.withLock { $0 = cursor.tenants }
                    return SchedulePlan(jobs: [], resumeAfter: cursor.now)
                }
                #expect(Set(seen.withLock { $0 }) == Set(expected), "\(schedule)")
            }
        }
    }

    /// A job claim reads the tenant block in the statement that makes it (``ClaimedJob/tenantBlockedWhenClaimed``):
    /// `true` for a job pushed for a blocked tenant, `false` for the same account in the other mode, another tenant
    /// and a job with no tenant.
    @Test(arguments: Backend.enabled)
    func aJobClaimSaysWhetherTheJobsTenantWasBlocked(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Date()
            let (otherMode, other) = try await Self.installBesideOthers(storage)
            _ = try await storage.admin.block(Self.tenant, reason: nil, by: AdminAction(actor: "cli", date: now))
            var names: [String: String] = [:]
            for (name, tenant) in [("blocked", Self.tenant), ("mode", otherMode), ("other", other), ("none", nil)] {
                let job = try #require(try await jobs.push(NewJob(name: name, tenant: tenant), now: now))
                names[job.id] = name
            }
            let claims = try await jobs.claim(now: now, limit: 10, lease: .seconds(600), owner: "w")
            #expect(
                Dictionary(uniqueKeysWithValues: claims.map { (names[$0.id] ?? $0.id, $0.tenantBlockedWhenClaimed) })
                    == ["blocked": true, "mode": false, "other": false, "none": false])
        }
    }

    /// An event of a blocked tenant is held by the statement that stores it, whichever way it is stored (as it came,
    /// or leased to its receiver): blocked, with no attempt and no lease, never claimed. The same account in the
    /// other mode, another tenant and an event with no account are stored as they came; once unblocked, so is the
    /// tenant's next event. A held event's redelivery is a duplicate.
    @Test(arguments: Backend.enabled)
    func anEventOfABlockedTenantIsHeldByTheStatementThatStoresIt(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            let now = Date()
            let otherMode = Tenant(accountID: Self.tenant.accountID, mode: .test)
            try await Self.install(Self.tenant, storage)
            try await Self.install(otherMode, storage)
            _ = try await storage.admin.block(Self.tenant, reason: nil, by: Self.action("cli", second: 1))
            func event(_ id: String, _ tenant: Tenant?, status: InboxEvent.Status = .pending) -> InboxEvent {
                InboxEvent(
                    id: id, type: "customer.created", isLiveMode: tenant?.mode.isLive ?? true,
                    accountID: tenant?.accountID, created: 1_700_000_000, receivedAt: now, status: status,
                    payload: #"{"id":"\#(id)"}"#)
            }
            let lease = Duration.seconds(600)
            #expect(try await inbox.enqueue(event("evt_held", Self.tenant)) == .held)
            #expect(try await inbox.enqueue(event("evt_held_done", Self.tenant, status: .succeeded)) == .held)
            #expect(
                try await inbox.enqueue(event("evt_held_leased", Self.tenant), claimingFor: "w", now: now, lease: lease)
                    == .held)
            #expect(try await inbox.enqueue(event("evt_held", Self.tenant)) == .duplicate, "a redelivery")
            #expect(
                try await inbox.enqueue(event("evt_held", Self.tenant), claimingFor: "w", now: now, lease: lease)
                    == .duplicate)
            #expect(try await inbox.enqueue(event("evt_other_mode", otherMode)) == .stored)
            let other = Tenant(accountID: "acct_other", mode: .live)
            #expect(
                try await inbox.enqueue(event("evt_other", other), claimingFor: "w", now: now, lease: lease).claim?.id
                    == "evt_other")
            #expect(try await inbox.enqueue(event("evt_platform", nil)) == .stored)
            for id in ["evt_held", "evt_held_done", "evt_held_leased"] {
                let held = try #require(try await storage.admin.event(id: id))
                #expect(held.status == .blocked && held.attempts == 0, "\(id)")
                #expect(held.leaseOwner == nil && held.leaseExpiresAt == nil && held.lastError == nil, "\(id)")
            }
            // The install callback's own event is held the same way.
            let state = InstallState(
                stateHash: InstallState.hash(of: "state"), appValue: nil, mode: nil, createdAt: now,
                expiresAt: now.addingTimeInterval(600))
            try await storage.installStates.save(state)
            let followUp = InstallFollowUp(event: event("evt_callback", Self.tenant), linkCode: nil)
            #expect(try await storage.installStates.complete(hash: state.stateHash, now: now) { _ in followUp } != nil)
            #expect(try await storage.admin.event(id: "evt_callback")?.status == .blocked)
            #expect(
                Set(try await inbox.claim(now: now, limit: 10, lease: lease, owner: "w").map(\.id))
                    == ["evt_other_mode", "evt_platform"])

            _ = try await storage.admin.unblock(Self.tenant, by: Self.action("cli", second: 2))
            #expect(try await inbox.enqueue(event("evt_after", Self.tenant)) == .stored)
            #expect(try await storage.admin.event(id: "evt_held")?.status == .blocked, "held until replayed")
        }
    }

    /// A claim reads the tenant block in the statement that makes it (``ClaimedEvent/tenantBlockedWhenClaimed``), so
    /// that a worker starting the event at once needs no read of its own: `true` for the events of a tenant blocked
    /// after they were stored (a due event and an expired lease alike), `false` for the same account in the other
    /// mode, another tenant and an event with no account; a claim made on arrival is never of a blocked tenant.
    @Test(arguments: Backend.enabled)
    func aClaimSaysWhetherTheEventsTenantWasBlocked(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            let now = Date()
            let (otherMode, other) = try await Self.installBesideOthers(storage)
            func event(_ id: String, _ tenant: Tenant?, created: Int64) -> InboxEvent {
                InboxEvent(
                    id: id, type: "customer.created", isLiveMode: tenant?.mode.isLive ?? true,
                    accountID: tenant?.accountID, created: created, receivedAt: now, payload: #"{"id":"\#(id)"}"#)
            }
            let arrival = try await inbox.enqueue(
                event("evt_arrived", Self.tenant, created: 1), claimingFor: "w", now: now, lease: .seconds(600))
            #expect(arrival.claim?.tenantBlockedWhenClaimed == false)
            // Leased for no time: expired for the next claim.
            #expect(
                try await inbox.enqueue(
                    event("evt_expired", Self.tenant, created: 2), claimingFor: "w", now: now, lease: .zero
                ).claim
                    != nil)
            for (id, tenant) in [("evt_blocked", Self.tenant), ("evt_mode", otherMode), ("evt_other", other)] {
                #expect(try await inbox.enqueue(event(id, tenant, created: 3)) == .stored)
            }
            #expect(try await inbox.enqueue(event("evt_platform", nil, created: 3)) == .stored)
            _ = try await storage.admin.block(Self.tenant, reason: nil, by: Self.action("cli", second: 1))

            let claims = try await inbox.claim(
                now: now.addingTimeInterval(1), limit: 10, lease: .seconds(600), owner: "v")
            #expect(
                Dictionary(uniqueKeysWithValues: claims.map { ($0.id, $0.tenantBlockedWhenClaimed) }) == [
                    "evt_expired": true, "evt_blocked": true, "evt_mode": false, "evt_other": false,
                    "evt_platform": false,
                ])
        }
    }

    /// `blocked` events are finished: never claimed, counted, listed, pruned, replayable; a claim set aside because
    /// its tenant is blocked becomes one, once.
    @Test(arguments: Backend.enabled)
    func blockedEventsAreKeptNeverClaimedAndPrunedLikeFinishedOnes(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            let now = Date()
            func event(_ id: String, status: InboxEvent.Status = .pending, second: Double = 0) -> InboxEvent {
                InboxEvent(
                    id: id, type: "customer.created", isLiveMode: true, accountID: Self.tenant.accountID,
                    created: 1_700_000_000, receivedAt: now.addingTimeInterval(second), status: status,
                    payload: #"{"id":"\#(id)"}"#)
            }
            #expect(try await inbox.enqueue(event("evt_dropped", status: .blocked, second: -10)) == .held)
            #expect(
                try await inbox.enqueue(event("evt_dropped", second: -10)) == .duplicate, "a redelivery is a duplicate")
            #expect(try await inbox.enqueue(event("evt_due")) == .stored)
            let claims = try await inbox.claim(now: now, limit: 10, lease: .seconds(600), owner: "w")
            #expect(claims.map(\.id) == ["evt_due"], "a blocked event is never claimed")
            let claim = try #require(claims.first)
            #expect(try await inbox.setAsideBlocked(claim))
            #expect(try await !inbox.setAsideBlocked(claim), "settled once")
            #expect(try await !inbox.complete(claim))
            #expect(try await storage.admin.event(id: "evt_dropped")?.status == .blocked)
            let setAside = try #require(try await storage.admin.event(id: "evt_due"))
            #expect(setAside.status == .blocked && setAside.lastError == InboxEvent.blockedNote)
            #expect(setAside.leaseOwner == nil && setAside.nextAttemptAt == nil)
            #expect(try await storage.statistics.inboxCounts()[.blocked] == 2)
            #expect(
                Set(
                    try await storage.admin.events(matching: InboxFilter(status: .blocked), after: nil, limit: 10).map(
                        \.id))
                    == ["evt_dropped", "evt_due"])
            #expect(Set(try await inbox.events(status: .blocked, limit: 10).map(\.id)) == ["evt_dropped", "evt_due"])
            // Pruned like the other finished events.
            #expect(
                try await inbox.prune(receivedIn: now.addingTimeInterval(-60)..<now.addingTimeInterval(-1), limit: 10)
                    == 1)
            #expect(try await storage.admin.event(id: "evt_dropped")?.isPruned == true)
            // Replayed (after an unblock) it runs again.
            let replayed = try await storage.admin.replay(id: "evt_due", by: AdminAction(actor: "cli", date: now))
            #expect(replayed?.status == .pending)
            #expect(
                try await inbox.claim(now: now, limit: 10, lease: .seconds(600), owner: "w").map(\.id) == ["evt_due"])
        }
    }
}
