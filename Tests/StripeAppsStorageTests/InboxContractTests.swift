import Foundation
import StripeApps
import Testing

@Suite struct InboxContractTests {
    static func event(_ id: String, type: String = "account.application.authorized", live: Bool = false) -> InboxEvent {
        InboxEvent(
            id: id,
            type: type,
            isLiveMode: live,
            accountID: "acct_1",
            created: 1_700_000_000,
            receivedAt: Date(timeIntervalSince1970: 1_700_000_000),
            payload: #"{"id":"\#(id)"}"#
        )
    }

    @Test(arguments: Backend.enabled)
    func eachEventIsStoredOnceWithItsBytes(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            #expect(try await storage.inbox.enqueue(Self.event("evt_1")) == .stored)
            #expect(try await storage.inbox.enqueue(Self.event("evt_1", type: "changed")) == .duplicate)
            let stored = try await storage.inbox.events(status: nil, limit: 10)
            #expect(stored == [Self.event("evt_1")])
            #expect(try await storage.inbox.events(status: .pending, limit: 10).count == 1)
            #expect(try await storage.inbox.events(status: .dead, limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backend.enabled)
    func theDeliverysTraceContextIsKeptThroughClaimsAndListings(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let traced = InboxEvent(
                id: "evt_traced", type: "t", isLiveMode: false, accountID: "acct_1", created: 1_700_000_000,
                receivedAt: Date(timeIntervalSince1970: 1_700_000_000), payload: "{}", traceParent: traceParent)
            #expect(try await storage.inbox.enqueue(traced) == .stored)
            #expect(try await storage.inbox.enqueue(Self.event("evt_untraced")) == .stored)
            let arrived = try #require(
                try await storage.inbox.enqueue(
                    InboxEvent(
                        id: "evt_arrived", type: "t", isLiveMode: false, accountID: "acct_1", created: 1_600_000_000,
                        receivedAt: Self.now, payload: "{}", traceParent: traceParent),
                    claimingFor: "receiver", now: Self.now, lease: Self.long
                ).claim)
            #expect(arrived.event.traceParent == traceParent)
            let claimed = try await storage.inbox.claim(now: Self.now, limit: 10, lease: Self.long, owner: "w")
            let kept: [String: String?] = Dictionary(
                uniqueKeysWithValues: claimed.map { ($0.id, $0.event.traceParent) })
            #expect(kept == ["evt_traced": traceParent, "evt_untraced": String?.none])
            #expect(try await storage.admin.event(id: "evt_arrived")?.traceParent == traceParent)
            #expect(try await storage.inbox.events(status: nil, limit: 10).filter { $0.traceParent != nil }.count == 2)
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentDeliveriesWithDuplicatesStoreEveryIdOnce(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            // 300 deliveries of 200 distinct events, shuffled, all at once.
            let ids = ((0..<200).map { "evt_\($0)" } + (0..<100).map { "evt_\($0 * 2)" }).shuffled()
            let newCount = try await withThrowingTaskGroup(of: Bool.self) { group in
                for id in ids { group.addTask { try await storage.inbox.enqueue(Self.event(id)).isNew } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(newCount == 200)
            #expect(Set(try await storage.inbox.events(status: nil, limit: 1000).map(\.id)).count == 200)
        }
    }

    @Test(arguments: Backend.enabled)
    func anEventStoredSucceededKeepsItsStatusAndIsNeverClaimed(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            var done = Self.event("evt_done")
            done.status = .succeeded
            let arrival = try await storage.inbox.enqueue(done)
            #expect(arrival == .stored)
            #expect(try await storage.inbox.enqueue(done) == .duplicate)
            #expect(try await storage.inbox.events(status: .succeeded, limit: 10) == [done])
            #expect(try await storage.inbox.claim(now: Self.now, limit: 10, lease: Self.long, owner: "w").isEmpty)
        }
    }

    static func event(_ id: String, created: Int64) -> InboxEvent {
        InboxEvent(
            id: id, type: "t", isLiveMode: false, accountID: "acct_1", created: created,
            receivedAt: Date(timeIntervalSince1970: 1_700_000_000), payload: "{}")
    }

    /// Real time: PostgreSQL takes lease times from its own clock, so leases are checked around the real now.
    static var now: Date { Date() }
    static let long = Duration.seconds(600)

    @Test(arguments: Backend.enabled)
    func claimsOldestFirstRetriesDeadLettersAndReplay(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            _ = try await inbox.enqueue(Self.event("evt_b", created: 2))
            _ = try await inbox.enqueue(Self.event("evt_a", created: 1))
            let now = Self.now
            let claims = try await inbox.claim(now: now, limit: 10, lease: Self.long, owner: "w1")
            #expect(claims.map(\.id) == ["evt_a", "evt_b"])
            #expect(claims.allSatisfy { $0.event.status == .running && $0.event.attempts == 1 && $0.owner == "w1" })
            #expect(try await inbox.events(status: .running, limit: 10).first?.leaseOwner == "w1")
            #expect(try await inbox.claim(now: now, limit: 10, lease: Self.long, owner: "w2").isEmpty, "leased")

            #expect(try await inbox.complete(claims[0]))
            #expect(try await inbox.fail(claims[1], error: "boom", retryAt: now.addingTimeInterval(60)))
            #expect(try await inbox.claim(now: now, limit: 10, lease: Self.long, owner: "w1").isEmpty)
            let failed = try #require(try await inbox.events(status: .failed, limit: 10).first)
            #expect(failed.id == "evt_b" && failed.attempts == 1 && failed.lastError == "boom")
            #expect(failed.leaseOwner == nil && failed.leaseExpiresAt == nil)

            let retry = try await inbox.claim(now: now.addingTimeInterval(61), limit: 10, lease: Self.long, owner: "w2")
            #expect(retry.map(\.id) == ["evt_b"])
            #expect(retry.first?.event.attempts == 2)
            #expect(try await inbox.fail(try #require(retry.first), error: "again", retryAt: nil))
            #expect(try await inbox.events(status: .dead, limit: 10).map(\.id) == ["evt_b"])
            #expect(
                try await inbox.claim(now: now.addingTimeInterval(86_400), limit: 10, lease: Self.long, owner: "w1")
                    .isEmpty)

            #expect(try await inbox.replay(id: "evt_b"))
            #expect(try await inbox.replay(id: "evt_missing") == false)
            let replayed = try await inbox.claim(now: now, limit: 10, lease: Self.long, owner: "w1")
            #expect(replayed.map(\.id) == ["evt_b"])
            #expect(replayed.first?.event.attempts == 1, "a replay starts over")
            #expect(try await inbox.events(status: .succeeded, limit: 10).first?.attempts == 1)
        }
    }

    @Test(arguments: Backend.enabled)
    func anExpiredLeaseReturnsTheEventAndFencesTheOldClaim(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            _ = try await inbox.enqueue(Self.event("evt_1", created: 1))
            // A zero lease has expired by the time anyone looks again, on every clock.
            let first = try #require(try await inbox.claim(now: Self.now, limit: 1, lease: .zero, owner: "dead").first)
            let second = try #require(
                try await inbox.claim(now: Self.now.addingTimeInterval(1), limit: 1, lease: Self.long, owner: "alive")
                    .first)
            #expect(second.id == "evt_1")
            #expect(second.token > first.token)
            #expect(second.event.attempts == 2, "the interrupted run counts")
            // The worker that lost the lease can record nothing, nor extend it.
            #expect(try await inbox.complete(first) == false)
            #expect(try await inbox.fail(first, error: "late", retryAt: nil) == false)
            #expect(try await inbox.heartbeat([first], now: Self.now, lease: Self.long).isEmpty)
            #expect(try await inbox.events(status: .running, limit: 10).first?.leaseOwner == "alive")
            #expect(try await inbox.heartbeat([second], now: Self.now, lease: Self.long) == ["evt_1"])
            #expect(try await inbox.complete(second))
            #expect(try await inbox.complete(second) == false, "settled once")
            #expect(try await inbox.events(status: .succeeded, limit: 10).map(\.id) == ["evt_1"])
        }
    }

    /// An event stored claimed by the instance that received it is held exactly as a claimed one: nobody else
    /// claims it while the lease holds, it settles once with its token, and an expired lease returns it.
    @Test(arguments: Backend.enabled)
    func anEventStoredClaimedIsLeasedToItsReceiverUntilTheLeaseEnds(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            let held = try #require(
                try await inbox.enqueue(
                    Self.event("evt_1", created: 1), claimingFor: "w1", now: Self.now, lease: Self.long
                ).claim)
            #expect(held.owner == "w1")
            #expect(held.event.status == .running)
            #expect(held.event.attempts == 1)
            #expect(held.event.payload == "{}")
            let stored = try #require(try await inbox.events(status: .running, limit: 10).first)
            #expect(stored.leaseOwner == "w1")
            #expect(stored.attempts == 1)
            let expiry = try #require(stored.leaseExpiresAt)
            #expect(abs(expiry.timeIntervalSince(Self.now) - 600) < 60, "the lease runs from now")
            #expect(try await inbox.claim(now: Self.now, limit: 10, lease: Self.long, owner: "w2").isEmpty)
            // A duplicate changes nothing, claimed or not.
            #expect(
                try await inbox.enqueue(Self.event("evt_1", created: 1), claimingFor: "w2", now: Self.now, lease: .zero)
                    == .duplicate)
            #expect(try await inbox.enqueue(Self.event("evt_1", created: 1)) == .duplicate)
            #expect(try await inbox.heartbeat([held], now: Self.now, lease: Self.long) == ["evt_1"])
            #expect(try await inbox.complete(held))
            #expect(try await inbox.events(status: .succeeded, limit: 10).map(\.id) == ["evt_1"])

            // The receiver died: once its lease ran out, any worker claims the event, and the old claim is fenced.
            let lost = try #require(
                try await inbox.enqueue(
                    Self.event("evt_2", created: 2), claimingFor: "dead", now: Self.now, lease: .zero
                ).claim)
            let taken = try #require(
                try await inbox.claim(now: Self.now.addingTimeInterval(1), limit: 10, lease: Self.long, owner: "w2")
                    .first)
            #expect(taken.id == "evt_2")
            #expect(taken.token > lost.token)
            #expect(taken.event.attempts == 2, "the interrupted run counts")
            #expect(try await inbox.complete(lost) == false)
            #expect(try await inbox.complete(taken))
        }
    }

    /// Concurrent deliveries, some stored claimed and some pending, with duplicates: each id is new once.
    @Test(arguments: Backend.enabled)
    func concurrentClaimedAndPendingDeliveriesStoreEveryIdOnce(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let ids = ((0..<100).map { "evt_\($0)" } + (0..<100).map { "evt_\($0)" }).shuffled()
            let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for (index, id) in ids.enumerated() {
                    group.addTask {
                        let event = Self.event(id, created: 1)
                        if index.isMultiple(of: 2) {
                            return (id, try await storage.inbox.enqueue(event).isNew)
                        }
                        let claim = try await storage.inbox.enqueue(
                            event, claimingFor: "w", now: Self.now, lease: Self.long)
                        return (id, claim.claim != nil)
                    }
                }
                return try await group.reduce(into: [String: Int]()) { counts, outcome in
                    if outcome.1 { counts[outcome.0, default: 0] += 1 }
                }
            }
            #expect(outcomes.count == 100)
            #expect(outcomes.values.allSatisfy { $0 == 1 })
            #expect(try await storage.inbox.events(status: nil, limit: 1000).count == 100)
        }
    }

    @Test(arguments: Backend.enabled)
    func aHeartbeatKeepsTheLeaseAndAReplayEndsIt(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            _ = try await inbox.enqueue(Self.event("evt_1", created: 1))
            let claim = try #require(try await inbox.claim(now: Self.now, limit: 1, lease: .zero, owner: "w1").first)
            #expect(try await inbox.heartbeat([claim], now: Self.now, lease: Self.long) == ["evt_1"])
            #expect(
                try await inbox.claim(now: Self.now.addingTimeInterval(1), limit: 1, lease: Self.long, owner: "w2")
                    .isEmpty)
            // An operator replays it while it runs: the running worker's claim is fenced off.
            #expect(try await inbox.replay(id: "evt_1"))
            #expect(try await inbox.complete(claim) == false)
            #expect(try await inbox.events(status: .pending, limit: 10).map(\.id) == ["evt_1"])
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentClaimersNeverGetTheSameEvent(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            for index in 0..<300 { _ = try await inbox.enqueue(Self.event("evt_\(index)", created: Int64(index))) }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var ids: [String] = []
                        while true {
                            let batch = try await inbox.claim(
                                now: Self.now, limit: 7, lease: Self.long, owner: "w\(worker)")
                            if batch.isEmpty { return ids }
                            ids += batch.map(\.id)
                            for claim in batch { #expect(try await inbox.complete(claim)) }
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claimed.count == 300, "each event claimed once")
            #expect(Set(claimed).count == 300)
            #expect(try await inbox.events(status: .succeeded, limit: 1000).count == 300)
        }
    }

    @Test(arguments: Backend.enabled)
    func everyBackendKeepsTheSameLengthOfError(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            _ = try await inbox.enqueue(Self.event("evt_1", created: 1))
            let claim = try #require(try await inbox.claim(now: Self.now, limit: 1, lease: Self.long, owner: "w").first)
            let long = String(repeating: "é", count: InboxEvent.maximumErrorLength + 500)
            #expect(try await inbox.fail(claim, error: long, retryAt: nil))
            let dead = try #require(try await inbox.events(status: .dead, limit: 1).first)
            #expect(dead.lastError == String(long.prefix(InboxEvent.maximumErrorLength)))
        }
    }

    @Test(arguments: Backend.enabled)
    func limitsAndStatusFiltersAreHonoured(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            for index in 0..<5 { _ = try await inbox.enqueue(Self.event("evt_\(index)", created: Int64(index))) }
            #expect(try await inbox.claim(now: Self.now, limit: 0, lease: Self.long, owner: "w").isEmpty)
            let two = try await inbox.claim(now: Self.now, limit: 2, lease: Self.long, owner: "w")
            #expect(two.map(\.id) == ["evt_0", "evt_1"])
            #expect(try await inbox.events(status: .pending, limit: 10).count == 3)
            #expect(try await inbox.events(status: .running, limit: 10).count == 2)
            #expect(try await inbox.events(status: nil, limit: 4).count == 4)
        }
    }

    /// Finished events past the retention lose their payload and error text, and keep their id: a redelivery is
    /// still a duplicate, and a pruned event cannot be replayed. Events still to run, and events received outside
    /// the range, keep everything; `limit` bounds one pass.
    @Test(arguments: Backend.enabled)
    func pruningDeletesOldFinishedPayloadsAndKeepsTheirIds(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            func event(_ id: String, at seconds: TimeInterval) -> InboxEvent {
                InboxEvent(
                    id: id, type: "invoice.paid", isLiveMode: false, accountID: "acct_1", created: 1,
                    receivedAt: Date(timeIntervalSince1970: 1_700_000_000 + seconds), payload: #"{"id":"\#(id)"}"#)
            }
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            for (id, seconds) in [
                ("evt_ok", 0.0), ("evt_dead", 1), ("evt_pending", 2), ("evt_failed", 3), ("evt_new", 100),
            ] {
                _ = try await inbox.enqueue(event(id, at: seconds))
            }
            let claims = try await inbox.claim(
                now: now.addingTimeInterval(200), limit: 5, lease: .seconds(60), owner: "w")
            for claim in claims {
                switch claim.id {
                case "evt_ok", "evt_new": _ = try await inbox.complete(claim)
                case "evt_dead": _ = try await inbox.fail(claim, error: "gave up", retryAt: nil)
                case "evt_failed":
                    _ = try await inbox.fail(claim, error: "later", retryAt: now.addingTimeInterval(9999))
                default: _ = try await inbox.fail(claim, error: "x", retryAt: now)
                }
            }
            _ = try await inbox.replay(id: "evt_pending")

            let range = Date.distantPast..<now.addingTimeInterval(50)
            #expect(try await inbox.prune(receivedIn: range, limit: 1) == 1, "one pass prunes at most limit")
            #expect(try await inbox.prune(receivedIn: range, limit: 100) == 1)
            #expect(try await inbox.prune(receivedIn: range, limit: 100) == 0, "nothing twice")

            let byID = Dictionary(
                uniqueKeysWithValues: try await inbox.events(status: nil, limit: 10).map { ($0.id, $0) })
            #expect(byID["evt_ok"]?.isPruned == true && byID["evt_ok"]?.status == .succeeded)
            #expect(byID["evt_dead"]?.isPruned == true && byID["evt_dead"]?.lastError == nil)
            #expect(byID["evt_pending"]?.isPruned == false)
            #expect(byID["evt_failed"]?.isPruned == false && byID["evt_failed"]?.lastError == "later")
            #expect(byID["evt_new"]?.isPruned == false, "received after the range")
            #expect(try await inbox.enqueue(event("evt_ok", at: 0)) == .duplicate, "a redelivery is still a duplicate")
            #expect(try await inbox.replay(id: "evt_dead") == false, "a pruned event cannot be replayed")
            #expect(try await inbox.replay(id: "evt_new") == true)
        }
    }

    /// The uninstall purge deletes the payloads of the tenant's finished events with its other data; the other
    /// mode's events and events still to run keep theirs.
    @Test(arguments: Backend.enabled)
    func anUninstallPrunesTheTenantsFinishedEvents(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            _ = try await inbox.enqueue(Self.event("evt_test_done"))
            _ = try await inbox.enqueue(Self.event("evt_live_done", live: true))
            let claims = try await inbox.claim(
                now: Date(timeIntervalSince1970: 1_700_000_100), limit: 2, lease: .seconds(60), owner: "w")
            for claim in claims { _ = try await inbox.complete(claim) }
            _ = try await inbox.enqueue(Self.event("evt_test_pending"))
            let tenant = Tenant(accountID: "acct_1", mode: .test)
            let uninstall = InstallationChange(
                tenant: tenant, action: .deactivate,
                source: .event(type: "account.application.deauthorized", id: "evt_u"),
                occurredAt: Date(timeIntervalSince1970: 1_700_000_200),
                recordedAt: Date(timeIntervalSince1970: 1_700_000_200))
            #expect(try await storage.installations.apply(uninstall) == .applied)
            let byID = Dictionary(
                uniqueKeysWithValues: try await inbox.events(status: nil, limit: 10).map { ($0.id, $0) })
            #expect(byID["evt_test_done"]?.isPruned == true)
            #expect(byID["evt_live_done"]?.isPruned == false, "the live tenant is another tenant")
            #expect(byID["evt_test_pending"]?.isPruned == false, "still to run")
        }
    }
}
