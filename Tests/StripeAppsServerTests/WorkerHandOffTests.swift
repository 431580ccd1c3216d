import Foundation
import Logging
import StripeApps
import StripeAppsServer
import Synchronization
import Testing

/// Events this instance receives start on its own worker, stored already leased to it, while it has room and
/// nothing older is due; otherwise they are stored pending and claimed in order.
@Suite struct WorkerHandOffTests {
    /// An inbox that counts claims and says when each has returned.
    final class CountingInbox: EventInbox {
        let base: InMemoryStorage
        let claims = Mutex(0)
        let claimed: AsyncStream<Int>.Continuation

        init(base: InMemoryStorage, claimed: AsyncStream<Int>.Continuation) {
            self.base = base
            self.claimed = claimed
        }

        func enqueue(_ event: InboxEvent) async throws -> InboxArrival { try await base.enqueue(event) }
        func enqueue(_ event: InboxEvent, claimingFor owner: String, now: Date, lease: Duration) async throws
            -> InboxArrival
        { try await base.enqueue(event, claimingFor: owner, now: now, lease: lease) }
        func events(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent] {
            try await base.events(status: status, limit: limit)
        }
        func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedEvent] {
            let found = try await base.claim(now: now, limit: limit, lease: lease, owner: owner)
            let count = claims.withLock { count in
                count += 1
                return count
            }
            claimed.yield(count)
            return found
        }
        func complete(_ claim: ClaimedEvent) async throws -> Bool { try await base.complete(claim) }
        func fail(_ claim: ClaimedEvent, error: String, retryAt: Date?) async throws -> Bool {
            try await base.fail(claim, error: error, retryAt: retryAt)
        }
        func setAsideBlocked(_ claim: ClaimedEvent) async throws -> Bool { try await base.setAsideBlocked(claim) }
        func heartbeat(_ claims: [ClaimedEvent], now: Date, lease: Duration) async throws -> Set<String> {
            try await base.heartbeat(claims, now: now, lease: lease)
        }
        func replay(id: String) async throws -> Bool { try await base.replay(id: id) }
        func prune(receivedIn range: Range<Date>, limit: Int) async throws -> Int {
            try await base.prune(receivedIn: range, limit: limit)
        }
    }

    /// A handler that records each start and waits until the test lets that event finish.
    final class Gate: Sendable {
        let started: AsyncStream<String>
        private let startedSignal: AsyncStream<String>.Continuation
        private let waiting = Mutex<[String: CheckedContinuation<Void, Never>]>([:])
        private let released = Mutex<Set<String>>([])

        init() { (started, startedSignal) = AsyncStream.makeStream() }

        func run(_ id: String) async {
            startedSignal.yield(id)
            await withCheckedContinuation { continuation in
                let go = waiting.withLock { waiting in
                    guard !released.withLock({ $0.contains(id) }) else { return true }
                    waiting[id] = continuation
                    return false
                }
                if go { continuation.resume() }
            }
        }

        func release(_ id: String) {
            let continuation = waiting.withLock { waiting in
                released.withLock { _ = $0.insert(id) }
                return waiting.removeValue(forKey: id)
            }
            continuation?.resume()
        }
    }

    static func running(
        _ inbox: CountingInbox, gate: Gate, concurrency: Int, batchSize: Int,
        _ body: @Sendable (InboxWorker) async throws -> Void
    ) async throws {
        var handlers = EventHandlers()
        handlers.onEvery { context in await gate.run(context.event.id) }
        let worker = InboxWorker(
            inbox: inbox, handlers: handlers,
            options: InboxWorker.Options(
                lease: .seconds(60), batchSize: batchSize, concurrency: concurrency, owner: "here",
                pollInterval: .seconds(3600)),
            logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            defer { group.cancelAll() }
            try await body(worker)
        }
    }

    @Test func aReceivedEventStartsHereWithoutAClaim() async throws {
        let (claimed, claimedSignal) = AsyncStream<Int>.makeStream()
        let inbox = CountingInbox(base: InMemoryStorage(), claimed: claimedSignal)
        let gate = Gate()
        try await Self.running(inbox, gate: gate, concurrency: 2, batchSize: 4) { worker in
            worker.start()
            // The first look at the inbox finds nothing due; after it, deliveries are handed over.
            _ = await claimed.first { _ in true }
            #expect(try await worker.receive(WorkerLeaseTests.event("evt_here")).claim?.owner == "here")
            #expect(await gate.started.first { _ in true } == "evt_here")
            let held = try #require(try await inbox.events(status: .running, limit: 1).first)
            #expect(held.leaseOwner == "here")
            #expect(held.attempts == 1)
            #expect(inbox.claims.withLock { $0 } == 1, "no claim ran for it")
            // A duplicate delivery is not new and starts nothing.
            #expect(try await worker.receive(WorkerLeaseTests.event("evt_here")) == .duplicate)
            gate.release("evt_here")
        }
    }

    @Test func aFullWorkerLeavesTheDeliveryPendingAndClaimsItOnceASlotIsFree() async throws {
        let (claimed, claimedSignal) = AsyncStream<Int>.makeStream()
        let inbox = CountingInbox(base: InMemoryStorage(), claimed: claimedSignal)
        let gate = Gate()
        try await Self.running(inbox, gate: gate, concurrency: 1, batchSize: 1) { worker in
            worker.start()
            var claims = claimed.makeAsyncIterator()
            _ = await claims.next()
            var starts = gate.started.makeAsyncIterator()
            #expect(try await worker.receive(WorkerLeaseTests.event("evt_1", created: 1)).claim != nil)
            #expect(await starts.next() == "evt_1")
            // The worker holds as many as its batch: the next delivery is stored pending, for any worker to claim.
            #expect(try await worker.receive(WorkerLeaseTests.event("evt_2", created: 2)) == .stored)
            #expect(try await inbox.events(status: .pending, limit: 10).map(\.id) == ["evt_2"])
            gate.release("evt_1")
            #expect(await starts.next() == "evt_2")
            #expect(await claims.next() == 2, "evt_2 came through a claim")
            let second = try #require(try await inbox.events(status: .running, limit: 10).first)
            #expect(second.id == "evt_2")
            #expect(second.leaseOwner == "here")
            gate.release("evt_2")
        }
    }

    @Test func aWorkerNotStartedYetLeavesDeliveriesPending() async throws {
        let (_, claimedSignal) = AsyncStream<Int>.makeStream()
        let inbox = CountingInbox(base: InMemoryStorage(), claimed: claimedSignal)
        try await Self.running(inbox, gate: Gate(), concurrency: 1, batchSize: 4) {
            (worker: InboxWorker) async throws in
            #expect(try await worker.receive(WorkerLeaseTests.event("evt_early")) == .stored)
            #expect(try await inbox.events(status: .pending, limit: 10).map(\.id) == ["evt_early"])
            #expect(inbox.claims.withLock { $0 } == 0)
        }
    }

    @Test func anEventNoHandlerIsRegisteredForIsStoredSucceededWithoutAClaimOrARun() async throws {
        let (claimed, claimedSignal) = AsyncStream<Int>.makeStream()
        let inbox = CountingInbox(base: InMemoryStorage(), claimed: claimedSignal)
        let (runs, ran) = AsyncStream<String>.makeStream()
        var handlers = EventHandlers()
        handlers.on("customer.updated") { context in ran.yield(context.event.id) }
        let worker = InboxWorker(
            inbox: inbox, handlers: handlers,
            options: InboxWorker.Options(owner: "here", pollInterval: .seconds(3600)), logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            defer { group.cancelAll() }
            worker.start()
            _ = await claimed.first { _ in true }
            // invoice.paid has no handler: stored done, with no attempt, and no claim or run follows.
            #expect(try await worker.receive(WorkerLeaseTests.event("evt_unhandled")) == .stored)
            let stored = try #require(try await inbox.events(status: nil, limit: 10).first)
            #expect(stored.id == "evt_unhandled")
            #expect(stored.status == .succeeded)
            #expect(stored.attempts == 0)
            #expect(stored.leaseOwner == nil)
            #expect(try await worker.receive(WorkerLeaseTests.event("evt_unhandled")) == .duplicate, "a duplicate")
            // A handled type still runs (and, being after it, shows the unhandled one never reached a handler).
            let payload =
                #"{"id":"evt_handled","object":"event","created":2,"livemode":false,"type":"customer.updated","account":"acct_1","data":{"object":{}}}"#
            #expect(
                try await worker.receive(
                    InboxEvent(
                        id: "evt_handled", type: "customer.updated", isLiveMode: false, accountID: "acct_1",
                        created: 2, receivedAt: Date(), payload: payload)
                ).claim != nil)
            #expect(await runs.first { _ in true } == "evt_handled")
            #expect(inbox.claims.withLock { $0 } == 1, "only the first look at the inbox")
        }
    }
}
