import Foundation
import Logging
import StripeApps
import StripeAppsServer
import Synchronization
import Testing

/// One bad handler must not stall the inbox: runs have a time limit, a handler's own cancellation is a failed
/// attempt with its backoff, and the events of one tenant run in order while tenants run side by side.
@Suite struct WorkerRobustnessTests {
    static func event(_ id: String, account: String = "acct_1", received: TimeInterval = 0) -> InboxEvent {
        let payload =
            #"{"id":"\#(id)","object":"event","created":1,"livemode":false,"type":"invoice.paid","account":"\#(account)","data":{"object":{}}}"#
        return InboxEvent(
            id: id, type: "invoice.paid", isLiveMode: false, accountID: account, created: 1,
            receivedAt: testNow.addingTimeInterval(received), payload: payload)
    }

    static func worker(
        _ inbox: some EventInbox, concurrency: Int = 4, handlerTimeout: Duration = .seconds(300),
        _ handler: @escaping @Sendable (EventContext) async throws -> Void
    ) -> InboxWorker {
        var handlers = EventHandlers()
        handlers.on("invoice.paid", handler)
        return InboxWorker(
            inbox: inbox, handlers: handlers,
            options: .init(concurrency: concurrency, owner: "w", handlerTimeout: handlerTimeout),
            now: { testNow }, logger: Logger(label: "test"))
    }

    /// A handler that never returns, not even when cancelled, fails at the time limit; the worker does not wait
    /// for it, and the other events of the batch finish.
    @Test func aHungHandlerFailsAtItsTimeLimitAndHoldsNothing() async throws {
        let store = InMemoryStorage()
        let stuck = Mutex<[CheckedContinuation<Void, Never>]>([])
        let worker = Self.worker(store.inbox, handlerTimeout: .milliseconds(200)) { context in
            guard context.event.id == "evt_hung" else { return }
            // Ignores cancellation: only the end of the test lets it go.
            await withCheckedContinuation { continuation in stuck.withLock { $0.append(continuation) } }
        }
        _ = try await store.inbox.enqueue(Self.event("evt_hung", account: "acct_1"))
        _ = try await store.inbox.enqueue(Self.event("evt_fine", account: "acct_2", received: 1))
        #expect(try await worker.processDueEvents() == 2)
        let hung = try #require(try await store.inbox.events(status: .failed, limit: 10).first)
        #expect(hung.id == "evt_hung")
        #expect(hung.lastError?.contains("did not finish within") == true)
        #expect(hung.nextAttemptAt.map { $0 > testNow } == true, "retried later, with backoff")
        #expect(try await store.inbox.events(status: .succeeded, limit: 10).map(\.id) == ["evt_fine"])
        stuck.withLock { continuations in
            for continuation in continuations { continuation.resume() }
            continuations = []
        }
    }

    /// A handler that throws `CancellationError` while the worker is not stopping made the event skip `fail` and
    /// be claimed first again at every pass: now it is a failed attempt, retried after its backoff.
    @Test func aHandlersOwnCancellationIsAFailedAttemptNotAHotLoop() async throws {
        let store = InMemoryStorage()
        let runs = Mutex(0)
        let worker = Self.worker(store.inbox) { _ in
            runs.withLock { $0 += 1 }
            throw CancellationError()
        }
        _ = try await store.inbox.enqueue(Self.event("evt_cancelled"))
        #expect(try await worker.processDueEvents() == 1)
        let failed = try #require(try await store.inbox.events(status: .failed, limit: 1).first)
        #expect(failed.attempts == 1)
        #expect(failed.nextAttemptAt.map { $0 > testNow } == true)
        #expect(try await worker.processDueEvents() == 0, "not due again before its backoff")
        #expect(runs.withLock { $0 } == 1)
    }

    /// Three events of each of two tenants: a tenant's events start in the order they arrived, each after the
    /// previous one ended, while the other tenant's run at the same time.
    @Test func eventsOfOneTenantRunInOrderWhileTenantsRunSideBySide() async throws {
        let store = InMemoryStorage()
        let log = Mutex<[String]>([])
        let (bStarted, bStartedSignal) = AsyncStream<Void>.makeStream()
        let worker = Self.worker(store.inbox, concurrency: 4) { context in
            let id = context.event.id
            log.withLock { $0.append("start \(id)") }
            if id == "evt_b1" { bStartedSignal.yield() }
            if id == "evt_a1" {
                // Only ends once the other tenant's first event started: proves the two tenants overlap.
                let seen: Void? = try await firstValue(of: bStarted, within: .seconds(30))
                log.withLock { $0.append(seen == nil ? "a1 ran alone" : "a1 saw b1") }
            }
            await Task.yield()
            log.withLock { $0.append("end \(id)") }
        }
        for (index, id) in ["evt_a1", "evt_a2", "evt_b1", "evt_a3", "evt_b2", "evt_b3"].enumerated() {
            let account = id.hasPrefix("evt_a") ? "acct_a" : "acct_b"
            _ = try await store.inbox.enqueue(Self.event(id, account: account, received: TimeInterval(index)))
        }
        #expect(try await worker.processDueEvents() == 6)
        let lines = log.withLock { $0 }
        #expect(lines.contains("a1 saw b1"))
        for tenant in ["a", "b"] {
            let own = lines.filter {
                $0.hasSuffix("_\(tenant)1") || $0.hasSuffix("_\(tenant)2") || $0.hasSuffix("_\(tenant)3")
            }
            let expected = (1...3).flatMap { ["start evt_\(tenant)\($0)", "end evt_\(tenant)\($0)"] }
            #expect(own == expected, "\(lines)")
        }
        #expect(try await store.inbox.events(status: .succeeded, limit: 10).count == 6)
    }

    /// The running worker keeps the same order: a tenant's next event starts only once the previous one ended.
    @Test func theRunningWorkerKeepsOneTenantInOrder() async throws {
        let store = InMemoryStorage()
        let running = Mutex<(now: Set<String>, overlaps: Int, order: [String])>(([], 0, []))
        let (finished, finishedSignal) = AsyncStream<Void>.makeStream()
        let worker = Self.worker(store.inbox, concurrency: 8) { context in
            let account = context.event.tenant?.accountID ?? ""
            running.withLock { state in
                if !state.now.insert(account).inserted { state.overlaps += 1 }
                state.order.append(context.event.id)
            }
            await Task.yield()
            running.withLock { _ = $0.now.remove(account) }
            finishedSignal.yield()
        }
        let ids = (1...20).map { "evt_\($0)" }
        for (index, id) in ids.enumerated() {
            _ = try await store.inbox.enqueue(
                Self.event(id, account: "acct_\(index % 2)", received: TimeInterval(index)))
        }
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                Issue.record("the worker did not run the 20 events within 60 s")
                finishedSignal.finish()
            }
            worker.start()
            var count = 0
            for await _ in finished {
                count += 1
                if count == ids.count { break }
            }
            group.cancelAll()
        }
        let state = running.withLock { $0 }
        #expect(state.overlaps == 0)
        for account in 0..<2 {
            let own = state.order.filter { Int($0.dropFirst(4))! % 2 == (account == 0 ? 1 : 0) }
            #expect(own == own.sorted { Int($0.dropFirst(4))! < Int($1.dropFirst(4))! }, "\(state.order)")
        }
    }
}
