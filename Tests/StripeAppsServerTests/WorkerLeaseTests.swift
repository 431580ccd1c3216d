import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import StripeApps
import StripeAppsServer
import Synchronization
import Testing

/// Several workers on one inbox: each event runs once at a time, and a dead worker's event runs again elsewhere.
@Suite struct WorkerLeaseTests {
    static func event(_ id: String, created: Int64 = 1) -> InboxEvent {
        let payload =
            #"{"id":"\#(id)","object":"event","created":\#(created),"livemode":false,"type":"invoice.paid","account":"acct_1","data":{"object":{}}}"#
        return InboxEvent(
            id: id, type: "invoice.paid", isLiveMode: false, accountID: "acct_1", created: created,
            receivedAt: testNow, payload: payload)
    }

    /// Which events run now, and how often each ran; records an overlap if an event starts while it runs.
    final class Recorder: Sendable {
        private let state = Mutex<(running: Set<String>, runs: [String: Int], overlaps: Int)>(([], [:], 0))

        func run(_ id: String, _ body: () async throws -> Void) async throws {
            state.withLock { state in
                if !state.running.insert(id).inserted { state.overlaps += 1 }
                state.runs[id, default: 0] += 1
            }
            defer { _ = state.withLock { $0.running.remove(id) } }
            try await body()
        }

        var runs: [String: Int] { state.withLock { $0.runs } }
        var overlaps: Int { state.withLock { $0.overlaps } }
    }

    static func worker(
        _ inbox: some EventInbox,
        owner: String,
        now: @escaping @Sendable () -> Date = { testNow },
        _ handler: @escaping EventHandlers.Handler
    ) -> InboxWorker {
        var handlers = EventHandlers()
        handlers.onEvery(handler)
        return InboxWorker(
            inbox: inbox, handlers: handlers,
            options: InboxWorker.Options(lease: .seconds(60), batchSize: 10, concurrency: 3, owner: owner), now: now,
            logger: Logger(label: "test"))
    }

    @Test func twoWorkersOnOneInboxRunEveryEventOnceAndNeverTogether() async throws {
        let storage = InMemoryStorage()
        for index in 0..<500 { _ = try await storage.inbox.enqueue(Self.event("evt_\(index)", created: Int64(index))) }
        let recorder = Recorder()
        let workers = ["a", "b"].map { owner in
            Self.worker(storage.inbox, owner: owner) { context in
                try await recorder.run(context.event.id) { await Task.yield() }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers { group.addTask { while try await worker.processDueEvents() > 0 {} } }
            try await group.waitForAll()
        }
        #expect(recorder.runs.count == 500)
        #expect(recorder.runs.values.allSatisfy { $0 == 1 })
        #expect(recorder.overlaps == 0)
        #expect(try await storage.inbox.events(status: .succeeded, limit: 1000).count == 500)
    }

    @Test func anEventWhoseWorkerDiedRunsAgainElsewhereOnceTheLeaseExpired() async throws {
        let storage = InMemoryStorage()
        _ = try await storage.inbox.enqueue(Self.event("evt_stuck"))
        let (started, startedSignal) = AsyncStream<Void>.makeStream()
        let recorder = Recorder()
        let dying = Self.worker(storage.inbox, owner: "dying") { context in
            try await recorder.run(context.event.id) {
                startedSignal.yield()
                // Hangs until its process "dies" (the task is cancelled).
                try await Task.sleep(for: .seconds(3600))
            }
        }
        let clock = Mutex(testNow)
        let now: @Sendable () -> Date = { clock.withLock { $0 } }
        let survivor = Self.worker(storage.inbox, owner: "survivor", now: now) { context in
            try await recorder.run(context.event.id) {}
        }
        let run = Task { try await dying.processDueEvents() }
        _ = await started.first { _ in true }
        // While the lease holds, nobody else takes the event.
        #expect(try await survivor.processDueEvents() == 0)
        run.cancel()
        _ = try? await run.value
        #expect(try await storage.inbox.events(status: .running, limit: 1).first?.leaseOwner == "dying")
        #expect(try await survivor.processDueEvents() == 0, "the lease has not expired yet")

        clock.withLock { $0 = testNow.addingTimeInterval(61) }
        #expect(try await survivor.processDueEvents() == 1)
        let done = try #require(try await storage.inbox.events(status: .succeeded, limit: 1).first)
        #expect(done.attempts == 2, "the interrupted run counts")
        #expect(recorder.runs["evt_stuck"] == 2)
        #expect(recorder.overlaps == 0)
    }

    @Test func anEventInterruptedMoreOftenThanTheAttemptsAllowIsDeadWithoutRunning() async throws {
        let storage = InMemoryStorage()
        _ = try await storage.inbox.enqueue(Self.event("evt_poison"))
        // Three claims whose workers never reported, as when the handler crashes the process each time.
        for second in 0..<3 {
            _ = try await storage.inbox.claim(
                now: testNow.addingTimeInterval(TimeInterval(second * 100)), limit: 1, lease: .seconds(60),
                owner: "crashed")
        }
        let runs = Mutex(0)
        var handlers = EventHandlers()
        handlers.onEvery { _ in runs.withLock { $0 += 1 } }
        let worker = InboxWorker(
            inbox: storage.inbox, handlers: handlers,
            policy: InboxWorker.RetryPolicy(maximumAttempts: 3, baseDelay: 0, maximumDelay: 0),
            now: { testNow.addingTimeInterval(1000) }, logger: Logger(label: "test"))
        #expect(try await worker.processDueEvents() == 1)
        #expect(runs.withLock { $0 } == 0)
        let dead = try #require(try await storage.inbox.events(status: .dead, limit: 1).first)
        #expect(dead.lastError?.contains("Interrupted 3 times") == true)
    }

    /// A type with no handler completes without being decoded; a handled type of the same batch still runs.
    @Test func anEventNobodyHandlesCompletesWithoutDecoding() async throws {
        let storage = InMemoryStorage()
        var unhandled = Self.event("evt_unhandled")
        unhandled = InboxEvent(
            id: unhandled.id, type: "customer.updated", isLiveMode: false, accountID: "acct_1", created: 1,
            receivedAt: testNow, payload: "not json: decoding it would fail")
        _ = try await storage.inbox.enqueue(unhandled)
        _ = try await storage.inbox.enqueue(Self.event("evt_handled", created: 2))
        let ran = Mutex<[String]>([])
        var handlers = EventHandlers()
        handlers.on("invoice.paid") { context in ran.withLock { $0.append(context.event.id) } }
        let worker = InboxWorker(inbox: storage.inbox, handlers: handlers, logger: Logger(label: "test"))
        #expect(try await worker.processDueEvents() == 2)
        #expect(ran.withLock { $0 } == ["evt_handled"])
        let succeeded = try await storage.inbox.events(status: .succeeded, limit: 10).map(\.id)
        #expect(Set(succeeded) == ["evt_unhandled", "evt_handled"])
    }

    /// The retry settings reach the worker through `buildApplication`, as they do under `serve`.
    @Test func buildApplicationRunsTheWorkerWithTheConfiguredAttempts() async throws {
        var configuration = try WebhookRouteTests.configuration()
        configuration.eventMaxAttempts = 2
        configuration.eventRetryBaseSeconds = 0
        configuration.eventRetryMaxSeconds = 0
        let storage = InMemoryStorage()
        let runs = Mutex(0)
        var handlers = EventHandlers()
        handlers.on("account.application.authorized") { _ in
            runs.withLock { $0 += 1 }
            throw URLError(.timedOut)
        }
        let sink = LogSink()
        let app = try buildApplication(
            configuration: configuration, storage: storage, logger: sink.logger,
            hooks: ApplicationHooks(now: { testNow }, eventHandlers: handlers))
        try await app.test(.router) { client in
            let body = WebhookRouteTests.event(id: "evt_fails")
            let response = try await client.execute(
                uri: "/webhooks/test", method: .post, headers: try WebhookRouteTests.signed(body),
                body: ByteBuffer(string: body))
            #expect(response.status == .ok)
            _ = await sink.line(containing: "no retries left (dead)")
            let dead = try #require(try await storage.inbox.events(status: .dead, limit: 1).first)
            #expect(dead.attempts == 2)
            #expect(runs.withLock { $0 } == 2)
        }
    }
}
