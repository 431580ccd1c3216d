import Foundation
import StripeApps
import Testing

/// ``AdminStore`` over every backend: filtered, paged listings, replays, discards and their audit records.
@Suite struct AdminContractTests {
    static let action = AdminAction(actor: "admin session 0badc0de", date: Date(timeIntervalSince1970: 1_700_000_500))

    static func event(
        _ id: String, second: Double, type: String = "customer.created", account: String? = "acct_1",
        live: Bool = false, status: InboxEvent.Status = .pending
    ) -> InboxEvent {
        InboxEvent(
            id: id, type: type, isLiveMode: live, accountID: account, created: 1_700_000_000,
            receivedAt: Date(timeIntervalSince1970: 1_700_000_000 + second), status: status,
            payload: #"{"id":"\#(id)"}"#)
    }

    /// Twelve events: four statuses, two types, two accounts, both modes, one arrival time shared by two.
    static let seeded: [InboxEvent] = [
        event("evt_01", second: 1, status: .succeeded),
        event("evt_02", second: 2, type: "invoice.paid", status: .dead),
        event("evt_03", second: 3, account: "acct_2", status: .dead),
        event("evt_04", second: 4, live: true, status: .failed),
        event("evt_05", second: 5, account: nil),
        event("evt_06", second: 6, type: "invoice.paid"),
        event("evt_07", second: 7, account: "acct_2", live: true, status: .dead),
        event("evt_08", second: 8, status: .succeeded),
        event("evt_09", second: 9, status: .dead),
        event("evt_10", second: 9, status: .dead),
        event("evt_11", second: 11, type: "invoice.paid", account: "acct_2", status: .failed),
        event("evt_12", second: 12),
    ]

    static func seed(_ storage: TestStorage) async throws {
        for event in seeded { _ = try await storage.inbox.enqueue(event) }
    }

    /// Every page of a listing, `size` events at a time, by position.
    static func allPages(_ admin: any AdminStore, _ filter: InboxFilter, size: Int) async throws -> [[String]] {
        var pages: [[String]] = []
        var position: String?
        while true {
            let page = try await admin.events(matching: filter, after: position, limit: size)
            if page.isEmpty { return pages }
            pages.append(page.map(\.id))
            position = page.last?.id
        }
    }

    @Test(arguments: Backend.enabled)
    func listingsFilterAndPageNewestFirst(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await Self.seed(storage)
            let admin = storage.admin
            #expect(
                try await Self.allPages(admin, InboxFilter(), size: 5) == [
                    ["evt_12", "evt_11", "evt_10", "evt_09", "evt_08"],
                    ["evt_07", "evt_06", "evt_05", "evt_04", "evt_03"],
                    ["evt_02", "evt_01"],
                ])
            // The two events that arrived in the same second page apart by id.
            #expect(
                try await Self.allPages(admin, InboxFilter(status: .dead), size: 2) == [
                    ["evt_10", "evt_09"], ["evt_07", "evt_03"], ["evt_02"],
                ])
            #expect(
                try await admin.events(matching: InboxFilter(type: "invoice.paid"), after: nil, limit: 10).map(\.id)
                    == ["evt_11", "evt_06", "evt_02"])
            #expect(
                try await admin.events(matching: InboxFilter(accountID: "acct_2"), after: nil, limit: 10).map(\.id)
                    == ["evt_11", "evt_07", "evt_03"])
            #expect(
                try await admin.events(matching: InboxFilter(mode: .live), after: nil, limit: 10).map(\.id)
                    == ["evt_07", "evt_04"])
            #expect(
                try await admin.events(
                    matching: InboxFilter(status: .dead, accountID: "acct_2", mode: .live), after: nil, limit: 10
                ).map(\.id) == ["evt_07"])
            #expect(try await admin.events(matching: InboxFilter(), after: "evt_missing", limit: 10).isEmpty)
            #expect(try await admin.events(matching: InboxFilter(), after: nil, limit: 0).isEmpty)
            // The listing carries whole events; one event reads back as stored.
            let listed = try await admin.events(matching: InboxFilter(), after: "evt_02", limit: 10)
            #expect(listed == [Self.seeded[0]])
            #expect(try await admin.event(id: "evt_04") == Self.seeded[3])
            #expect(try await admin.event(id: "evt_missing") == nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func replayingOneEventStartsItOverAndIsAudited(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await Self.seed(storage)
            let replayed = try #require(try await storage.admin.replay(id: "evt_09", by: Self.action))
            #expect(replayed.status == .pending)
            #expect(replayed.attempts == 0)
            #expect(try await storage.admin.event(id: "evt_09")?.status == .pending)
            #expect(try await storage.admin.replay(id: "evt_missing", by: Self.action) == nil)
            let audit = try await storage.credentials.auditRecords(for: Tenant(accountID: "acct_1", mode: .test))
            #expect(
                audit == [
                    AuditRecord(
                        tenant: Tenant(accountID: "acct_1", mode: .test), action: "admin_replayed",
                        reason: "evt_09 customer.created by admin session 0badc0de", date: Self.action.date)
                ])
            // A claimed event is not taken from its worker.
            let claims = try await storage.inbox.claim(now: Date(), limit: 20, lease: .seconds(600), owner: "w")
            let running = try #require(claims.first)
            let refused = try await storage.admin.replay(id: running.id, by: Self.action)
            #expect(refused?.status == .running)
            #expect(try await storage.inbox.complete(running), "the worker still holds its lease")
        }
    }

    @Test(arguments: Backend.enabled)
    func discardEndsAnEventForGoodAndIsAudited(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await Self.seed(storage)
            let discarded = try #require(try await storage.admin.discard(id: "evt_11", by: Self.action))
            #expect(discarded.status == .dead)
            #expect(discarded.isDiscarded)
            #expect(discarded.isPruned)
            #expect(discarded.lastError == "Discarded by an operator by admin session 0badc0de")
            #expect(try await storage.admin.event(id: "evt_11") == discarded)
            // Nothing replays it, alone or in bulk, and a redelivery of its id is still a duplicate.
            #expect(try await storage.admin.replay(id: "evt_11", by: Self.action) == discarded)
            #expect(try await storage.inbox.replay(id: "evt_11") == false)
            #expect(
                try await storage.admin.replayAll(
                    matching: InboxFilter(accountID: "acct_2"), limit: 10, by: Self.action) == 2)
            #expect(try await storage.admin.event(id: "evt_11") == discarded)
            #expect(try await storage.inbox.enqueue(Self.event("evt_11", second: 20)) == .duplicate)
            #expect(
                try await storage.inbox.claim(now: Date(), limit: 20, lease: .seconds(60), owner: "w").allSatisfy {
                    $0.id != "evt_11"
                })
            // A succeeded event is not discarded; an unknown one is nil.
            #expect(try await storage.admin.discard(id: "evt_08", by: Self.action) == Self.seeded[7])
            #expect(try await storage.admin.discard(id: "evt_missing", by: Self.action) == nil)
            let audit = try await storage.credentials.auditRecords(for: Tenant(accountID: "acct_2", mode: .test))
            #expect(audit.first?.action == "admin_discarded")
            #expect(audit.first?.reason == "evt_11 invoice.paid by admin session 0badc0de")
        }
    }

    @Test(arguments: Backend.enabled)
    func bulkReplayTakesTheListingsFirstEventsUpToTheCap(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await Self.seed(storage)
            let admin = storage.admin
            #expect(try await admin.replayAll(matching: InboxFilter(status: .dead), limit: 3, by: Self.action) == 3)
            #expect(
                try await admin.events(matching: InboxFilter(status: .dead), after: nil, limit: 10).map(\.id)
                    == ["evt_03", "evt_02"])
            #expect(try await admin.event(id: "evt_10")?.status == .pending)
            #expect(try await admin.event(id: "evt_07")?.status == .pending)
            // Each replayed event of a tenant is in that tenant's audit log; evt_05 has no account.
            let live2 = try await storage.credentials.auditRecords(for: Tenant(accountID: "acct_2", mode: .live))
            #expect(live2.map(\.reason) == ["evt_07 customer.created by admin session 0badc0de"])
            #expect(try await admin.replayAll(matching: InboxFilter(type: "nothing"), limit: 10, by: Self.action) == 0)
            // Running events are left alone; the cap holds whatever limit is asked.
            _ = try await storage.inbox.claim(now: Date(), limit: 1, lease: .seconds(600), owner: "w")
            let replayedAll = try await admin.replayAll(matching: InboxFilter(), limit: 5000, by: Self.action)
            #expect(replayedAll == Self.seeded.count - 1)
        }
    }

    @Test(arguments: Backend.enabled)
    func bulkReplayStopsAtOneThousand(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            for index in 0..<1003 {
                _ = try await storage.inbox.enqueue(
                    Self.event(String(format: "evt_%04d", index), second: Double(index), status: .dead))
            }
            #expect(
                try await storage.admin.replayAll(matching: InboxFilter(status: .dead), limit: 5000, by: Self.action)
                    == 1000)
            let left = try await storage.admin.events(matching: InboxFilter(status: .dead), after: nil, limit: 10)
            #expect(left.map(\.id) == ["evt_0002", "evt_0001", "evt_0000"], "the newest thousand were replayed")
        }
    }

    @Test(arguments: Backend.enabled)
    func installationsFilterSearchPageAndCount(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let date = Date(timeIntervalSince1970: 1_700_000_000)
            for (account, mode) in [
                ("acct_1A", Tenant.Mode.test), ("acct_1A", .live), ("acct_2B", .test), ("acct_3C", .live),
                ("acct_4D", .test),
            ] {
                _ = try await storage.installations.apply(
                    InstallationChange(
                        tenant: Tenant(accountID: account, mode: mode), action: .activate, source: .installCallback,
                        occurredAt: date, recordedAt: date))
            }
            _ = try await storage.installations.apply(
                InstallationChange(
                    tenant: Tenant(accountID: "acct_2B", mode: .test), action: .deactivate,
                    source: .event(type: "account.application.deauthorized", id: "evt_x"),
                    occurredAt: date.addingTimeInterval(1),
                    recordedAt: date.addingTimeInterval(1)))
            let admin = storage.admin
            func tenants(_ filter: InstallationFilter, after: Tenant? = nil, limit: Int = 10) async throws -> [String] {
                try await admin.installations(matching: filter, after: after, limit: limit).map(\.tenant.description)
            }
            #expect(
                try await tenants(InstallationFilter()) == [
                    "acct_1A/test", "acct_1A/live", "acct_2B/test", "acct_3C/live", "acct_4D/test",
                ])
            #expect(try await tenants(InstallationFilter(), limit: 2) == ["acct_1A/test", "acct_1A/live"])
            #expect(
                try await tenants(InstallationFilter(), after: Tenant(accountID: "acct_1A", mode: .live), limit: 2)
                    == ["acct_2B/test", "acct_3C/live"])
            #expect(try await tenants(InstallationFilter(accountContains: "1A")) == ["acct_1A/test", "acct_1A/live"])
            #expect(try await tenants(InstallationFilter(accountContains: "1a")).isEmpty)
            #expect(try await tenants(InstallationFilter(mode: .live)) == ["acct_1A/live", "acct_3C/live"])
            #expect(try await tenants(InstallationFilter(status: .inactive)) == ["acct_2B/test"])
            let counts = Set(try await admin.installationCounts())
            #expect(
                counts == [
                    InstallationCount(mode: .test, status: .active, count: 2),
                    InstallationCount(mode: .test, status: .inactive, count: 1),
                    InstallationCount(mode: .live, status: .active, count: 2),
                ])
        }
    }
}
