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

@Suite struct InboxWorkerTests {
    static func event(_ id: String, type: String, created: Int64, account: String = "acct_1") -> String {
        #"{"id":"\#(id)","object":"event","created":\#(created),"livemode":false,"type":"\#(type)","account":"\#(account)","data":{"object":{"id":"ca_1","object":"application","name":"Example"}}}"#
    }

    /// The real router and worker over one storage; deliveries go through the signed webhook endpoint, and the
    /// test runs the worker's passes itself.
    struct Harness {
        let store = InMemoryStorage()
        let worker: InboxWorker
        let router: Router<AppRequestContext>

        init(hooks: ApplicationHooks, configure: (inout AppConfiguration) -> Void = { _ in }) throws {
            var configuration = try WebhookRouteTests.configuration()
            configure(&configuration)
            worker = inboxWorker(
                configuration: configuration, storage: store, hooks: hooks, logger: Logger(label: "test"))
            router = buildRouter(
                configuration: configuration,
                storage: store,
                appKeyring: try SigningKeyring(secrets: [appSecret]),
                hooks: hooks,
                worker: worker
            )
        }

        static func deliver(_ body: String, _ client: some TestClientProtocol) async throws {
            let response = try await client.execute(
                uri: "/webhooks/test",
                method: .post,
                headers: try WebhookRouteTests.signed(body),
                body: ByteBuffer(string: body)
            )
            #expect(response.status == .ok)
        }
    }

    @Test func installAndUninstallFollowTheAppEventsInAnyOrder() async throws {
        let purged = Mutex<[Tenant]>([])
        let installedHookRuns = Mutex(0)
        let hooks = ApplicationHooks(
            now: { testNow },
            lifecycle: InstallLifecycle(
                onAuthorized: { _ in installedHookRuns.withLock { $0 += 1 } },
                purge: { tenant, _ in purged.withLock { $0.append(tenant) } }
            )
        )
        let harness = try Harness(hooks: hooks)
        let tenant = Tenant(accountID: "acct_1", mode: .test)
        let store = harness.store
        let worker = harness.worker
        try await Application(router: harness.router).test(.router) { client in
            try await Harness.deliver(Self.event("evt_1", type: "account.application.authorized", created: 100), client)
            #expect(try await worker.processDueEvents() == 1)
            #expect(try await store.installations.installation(for: tenant)?.status == .active)
            _ = try await store.settings.updateSettings(for: tenant, expectedVersion: 0) {
                $0["theme"] = .string("dark")
            }

            // A repeated authorization (permissions changed) updates it and runs the hook again.
            try await Harness.deliver(Self.event("evt_2", type: "account.application.authorized", created: 150), client)
            try await worker.processDueEvents()
            #expect(installedHookRuns.withLock { $0 } == 2)

            try await Harness.deliver(
                Self.event("evt_3", type: "account.application.deauthorized", created: 200), client)
            try await worker.processDueEvents()
            #expect(try await store.installations.installation(for: tenant)?.status == .inactive)
            #expect(try await store.settings.settings(for: tenant) == .empty)
            #expect(purged.withLock { $0 } == [tenant])
            #expect(
                try await store.credentials.auditRecords(for: tenant).map(\.reason) == [
                    "account.application.deauthorized evt_3"
                ])

            // An older authorization arriving late changes nothing.
            try await Harness.deliver(Self.event("evt_0", type: "account.application.authorized", created: 50), client)
            try await worker.processDueEvents()
            #expect(try await store.installations.installation(for: tenant)?.status == .inactive)
            #expect(installedHookRuns.withLock { $0 } == 2)
            #expect(try await store.inbox.events(status: .succeeded, limit: 10).count == 4)
        }
    }

    @Test func failingHandlersAreRetriedThenDeadThenReplayed() async throws {
        let runs = Mutex(0)
        let keys = Mutex<Set<String>>([])
        let shouldFail = Mutex(true)
        var handlers = EventHandlers()
        handlers.on("invoice.paid") { context in
            runs.withLock { $0 += 1 }
            keys.withLock { _ = $0.insert(context.idempotencyKey(step: "send-email")) }
            #expect(context.tenant == Tenant(accountID: "acct_9", mode: .test))
            if shouldFail.withLock({ $0 }) { throw URLError(.timedOut) }
        }
        let hooks = ApplicationHooks(now: { testNow }, eventHandlers: handlers)
        let harness = try Harness(hooks: hooks) { configuration in
            configuration.eventMaxAttempts = 3
            configuration.eventRetryBaseSeconds = 0
            configuration.eventRetryMaxSeconds = 0
        }
        let store = harness.store
        let worker = harness.worker
        try await Application(router: harness.router).test(.router) { client in
            try await Harness.deliver(
                Self.event("evt_pay", type: "invoice.paid", created: 1, account: "acct_9"), client)
            // Each pass runs the due event once; with no backoff it is due again at once, until it is dead.
            for _ in 0..<5 { try await worker.processDueEvents() }
            #expect(runs.withLock { $0 } == 3)
            let dead = try await store.inbox.events(status: .dead, limit: 10)
            #expect(dead.map(\.id) == ["evt_pay"])
            #expect(dead.first?.attempts == 3)
            #expect(dead.first?.lastError?.isEmpty == false)

            shouldFail.withLock { $0 = false }
            #expect(try await store.inbox.replay(id: "evt_pay"))
            try await worker.processDueEvents()
            #expect(runs.withLock { $0 } == 4)
            #expect(try await store.inbox.events(status: .succeeded, limit: 10).map(\.id) == ["evt_pay"])
            #expect(keys.withLock { $0 } == ["evt_pay:send-email"], "the key is the same on every run")
        }
    }

    @Test func backoffGrowsExponentiallyWithJitterAndACap() {
        let policy = InboxWorker.RetryPolicy(maximumAttempts: 8, baseDelay: 2, maximumDelay: 60)
        for attempts in 1...8 {
            let expected = min(60, 2 * pow(2, Double(attempts - 1)))
            let delays = (0..<50).map { _ in policy.delay(afterAttempts: attempts) }
            #expect(delays.allSatisfy { $0 >= expected * 0.8 && $0 <= expected * 1.2 })
            #expect(Set(delays).count > 1, "jitter")
        }
    }

    @Test func theDefaultPolicyKeepsAFailingEventRetryableForThreeDays() {
        let policy = InboxWorker.RetryPolicy.default
        #expect(policy.maximumAttempts == 101)
        #expect(policy.shortestRetryWindow >= 3 * 86_400)
        #expect(policy.shortestRetryWindow < 3 * 86_400 + 0.8 * 3600, "no more runs than the window needs")
        // The schedule Docs/webhooks.md shows: 2 s, doubling, then hourly.
        #expect(
            (1...12).map { policy.nominalDelay(afterAttempts: $0) } == [
                2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600,
            ])
        #expect(policy.nominalDelay(afterAttempts: 100) == 3600)
        #expect(policy.nominalDelay(afterAttempts: 5_000) == 3600, "no overflow")
        // From the configuration: the window, unless EVENT_MAX_ATTEMPTS says otherwise.
        var configuration = AppConfiguration()
        #expect(configuration.eventRetryPolicy.maximumAttempts == 101)
        configuration.eventRetryWindowHours = 1
        #expect(configuration.eventRetryPolicy.shortestRetryWindow >= 3600)
        #expect(configuration.eventRetryPolicy.maximumAttempts == 13)
        configuration.eventMaxAttempts = 8
        #expect(configuration.eventRetryPolicy.maximumAttempts == 8)
        // No delay can fill a window: the count stops at its bound instead of looping.
        let hot = InboxWorker.RetryPolicy(retryingFor: 60, baseDelay: 0, maximumDelay: 0)
        #expect(hot.maximumAttempts == InboxWorker.RetryPolicy.mostAttempts)
    }

    @Test func aFiveMinuteOutageOfADependencyLosesNoEventWithTheDefaultPolicy() async throws {
        let clock = Mutex(testNow)
        let runs = Mutex(0)
        let outageEnds = testNow.addingTimeInterval(300)
        var handlers = EventHandlers()
        handlers.on("invoice.paid") { _ in
            runs.withLock { $0 += 1 }
            if clock.withLock({ $0 }) < outageEnds { throw URLError(.cannotConnectToHost) }
        }
        let hooks = ApplicationHooks(now: { clock.withLock { $0 } }, eventHandlers: handlers)
        let harness = try Harness(hooks: hooks)
        let store = harness.store
        let worker = harness.worker
        try await Application(router: harness.router).test(.router) { client in
            try await Harness.deliver(Self.event("evt_outage", type: "invoice.paid", created: 1), client)
            // Each pass moves the clock to the event's next attempt, as the worker's ticks would.
            for _ in 0..<20 {
                try await worker.processDueEvents()
                guard let failed = try await store.inbox.events(status: .failed, limit: 1).first else { break }
                let next = try #require(failed.nextAttemptAt)
                clock.withLock { $0 = next }
            }
            let stored = try #require(try await store.inbox.events(status: nil, limit: 1).first)
            #expect(stored.status == .succeeded, "it outlived the outage")
            // The retries before it were 2, 4, 8, … s apart: past the 8 runs the old default allowed.
            #expect(runs.withLock { $0 } >= 9)
            #expect(stored.attempts == runs.withLock { $0 })
        }
    }
}
