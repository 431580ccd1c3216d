import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Synchronization
import Testing

/// A blocked tenant is served nothing and nothing runs for it: signed UI calls get 403 `tenant_blocked`, webhooks
/// are acknowledged and stored `blocked`, events stored before the block are set aside, and jobs are cancelled.
@Suite struct TenantBlockTests {
    static let blocked = Tenant(accountID: "acct_1", mode: .test)
    static let action = AdminAction(actor: "cli", date: testNow)

    /// Storage where the app is installed for `acct_1` in both modes and `acct_2` in test mode, and `acct_1` is
    /// blocked in test mode.
    static func storage() async throws -> InMemoryStorage {
        let storage = InMemoryStorage()
        for tenant in [
            Self.blocked, Tenant(accountID: "acct_1", mode: .live), Tenant(accountID: "acct_2", mode: .test),
        ] {
            try await install(tenant, in: storage)
        }
        #expect(try await storage.admin.block(Self.blocked, reason: "abuse", by: Self.action)?.isBlocked == true)
        return storage
    }

    @Test func signedCallsOfABlockedTenantGet403TenantBlockedWithCORS() async throws {
        let storage = try await Self.storage()
        try await withTestApp(storage: storage) { client in
            let calls = [
                (
                    "/api/whoami", HTTPRequest.Method.post,
                    try signer.post(userID: "usr_1", accountID: "acct_1", mode: .test)
                ),
                ("/api/settings", .get, try signer.get(userID: "usr_1", accountID: "acct_1", mode: .test)),
                // No signed mode: refused when the account is blocked in either mode.
                ("/api/whoami", .post, try signer.post(userID: "usr_1", accountID: "acct_1")),
            ]
            for (path, method, request) in calls {
                let response = try await client.execute(path, method, request)
                #expect(response.status == .forbidden, "\(method) \(path)")
                #expect(response.errorCode == "tenant_blocked", "\(method) \(path)")
                #expect(response.headers[.accessControlAllowOrigin] == "*", "the UI can read why")
            }
            // The same account in live mode, and other accounts, are served.
            let live = try await client.execute(
                "/api/settings", .get, try signer.get(userID: "usr_1", accountID: "acct_1", mode: .live))
            #expect(live.status == .ok)
            let other = try await client.execute(
                "/api/whoami", .post, try signer.post(userID: "usr_2", accountID: "acct_2", mode: .test))
            #expect(other.status == .ok)

            // Uninstalled and still blocked: the block is what it is told, not not_installed.
            _ = try await storage.installations.apply(
                InstallationChange(
                    tenant: Self.blocked, action: .deactivate, source: .installCallback,
                    occurredAt: testNow.addingTimeInterval(1), recordedAt: testNow))
            let tombstone = try await client.execute(
                "/api/settings", .get, try signer.get(userID: "usr_1", accountID: "acct_1", mode: .test))
            #expect(tombstone.errorCode == "tenant_blocked")

            // Unblocked, the tenant is served again (here: not installed any more).
            _ = try await storage.admin.unblock(Self.blocked, by: Self.action)
            let whoami = try await client.execute(
                "/api/whoami", .post, try signer.post(userID: "usr_1", accountID: "acct_1", mode: .test))
            #expect(whoami.status == .ok)
            #expect(try whoami.json()["installation"]?["status"] == .string("inactive"))
            let settings = try await client.execute(
                "/api/settings", .get, try signer.get(userID: "usr_1", accountID: "acct_1", mode: .test))
            #expect(settings.errorCode == "not_installed")
        }
    }

    @Test func developmentModeRefusesABlockedTenantToo() async throws {
        let storage = try await Self.storage()
        let development = try UIExtensionSigner(
            secrets: [try await developmentSecret(in: storage.metadata)], now: { testNow })
        var configuration = AppConfiguration(port: 0, databaseURL: "sqlite::memory:")
        configuration.maximumBodyBytes = 4096
        try await withTestApp(configuration: configuration, storage: storage) { client in
            for (path, method, request) in [
                (
                    "/api/whoami", HTTPRequest.Method.post,
                    try development.post(userID: "usr_1", accountID: "acct_1", mode: .test)
                ),
                ("/api/settings", .get, try development.get(userID: "usr_1", accountID: "acct_1", mode: .test)),
            ] {
                let response = try await client.execute(path, method, request)
                #expect(response.errorCode == "tenant_blocked", "\(method) \(path)")
            }
            // A tenant never installed is served, as development mode does.
            let fresh = try await client.execute(
                "/api/settings", .get, try development.get(userID: "usr_9", accountID: "acct_9", mode: .test))
            #expect(fresh.status == .ok)
        }
    }

    /// Webhooks of a blocked tenant get 200 and are stored `blocked`, counted as such, and never run; other
    /// tenants' events run.
    @Test func webhooksOfABlockedTenantAreAcknowledgedAndStoredWithoutRunning() async throws {
        let storage = try await Self.storage()
        let ran = Mutex<[String]>([])
        var handlers = EventHandlers()
        handlers.on("customer.created") { context in ran.withLock { $0.append(context.event.id) } }
        let metrics = AppMetrics()
        let hooks = ApplicationHooks(now: { testNow }, eventHandlers: handlers, metrics: metrics)
        let configuration = try WebhookRouteTests.configuration()
        let worker = inboxWorker(
            configuration: configuration, storage: storage, hooks: hooks, logger: Logger(label: "test"))
        let router = buildRouter(
            configuration: configuration, storage: storage, appKeyring: try SigningKeyring(secrets: [appSecret]),
            hooks: hooks, worker: worker)
        let app = Application(router: router)
        try await app.test(.router) { client in
            func deliver(_ id: String, account: String) async throws -> TestResponse {
                let body = InboxWorkerTests.event(
                    id, type: "customer.created", created: 1_700_000_000, account: account)
                return try await client.execute(
                    uri: "/webhooks/test", method: .post, headers: try WebhookRouteTests.signed(body),
                    body: ByteBuffer(string: body))
            }
            let first = try await deliver("evt_blocked", account: "acct_1")
            #expect(first.status == .ok)
            #expect(first.text == #"{"received":true,"duplicate":false,"blocked":true}"#)
            let again = try await deliver("evt_blocked", account: "acct_1")
            // A redelivery is a duplicate like any other: nothing is stored, and nothing is read to tell more.
            #expect(again.text == #"{"received":true,"duplicate":true}"#)
            #expect(try await deliver("evt_served", account: "acct_2").text == #"{"received":true,"duplicate":false}"#)
        }
        // The worker started nothing (it was never started): run what is due, as its loop would.
        worker.start()
        _ = try await worker.processDueEvents()
        #expect(ran.withLock { $0 } == ["evt_served"])
        let stored = try #require(try await storage.admin.event(id: "evt_blocked"))
        #expect(stored.status == .blocked && stored.attempts == 0 && !stored.isPruned)
        #expect(try await storage.admin.event(id: "evt_served")?.status == .succeeded)
        let scrape = MetricsTests.Scrape(String(decoding: metrics.exposition(), as: UTF8.self))
        let deliveries = "stripe_apps_webhook_deliveries_total"
        #expect(scrape[#"\#(deliveries){mode="test",outcome="blocked"}"#] == 1)
        #expect(scrape[#"\#(deliveries){mode="test",outcome="duplicate"}"#] == 1)
        #expect(scrape[#"\#(deliveries){mode="test",outcome="stored"}"#] == 1)
        #expect(!scrape.text.contains("acct_1"), "no account in a label")
    }

    /// An event stored before the block (or by the install callback) is set aside when its turn comes; after an
    /// unblock, a replay runs it.
    @Test func eventsStoredBeforeTheBlockAreSetAsideAndRunWhenReplayedAfterUnblocking() async throws {
        let storage = InMemoryStorage()
        try await install(Self.blocked, in: storage)
        let ran = Mutex(0)
        var handlers = EventHandlers()
        handlers.on("customer.created") { _ in ran.withLock { $0 += 1 } }
        let worker = inboxWorker(
            configuration: try WebhookRouteTests.configuration(), storage: storage,
            hooks: ApplicationHooks(now: { testNow }, eventHandlers: handlers), logger: Logger(label: "test"))
        let body = InboxWorkerTests.event("evt_early", type: "customer.created", created: 1_700_000_000)
        let event = try AppEvent(json: Array(body.utf8))
        #expect(
            try await storage.inbox.enqueue(InboxEvent(event: event, payload: body, receivedAt: testNow)) == .stored)
        _ = try await storage.admin.block(Self.blocked, reason: nil, by: Self.action)
        worker.start()
        #expect(try await worker.processDueEvents() == 1)
        #expect(ran.withLock { $0 } == 0)
        let setAside = try #require(try await storage.admin.event(id: "evt_early"))
        #expect(setAside.status == .blocked && setAside.lastError == InboxEvent.blockedNote)

        _ = try await storage.admin.unblock(Self.blocked, by: Self.action)
        #expect(try await storage.admin.replay(id: "evt_early", by: Self.action)?.status == .pending)
        _ = try await worker.processDueEvents()
        #expect(ran.withLock { $0 } == 1)
        #expect(try await storage.admin.event(id: "evt_early")?.status == .succeeded)
    }

    /// A claimed event starts on its claim's reading of the block, with no installation read of its own while
    /// that reading is recent (``InboxWorker/Options/blockReadingLifetime``); an event that starts later reads the
    /// installation again, so a block committed after the claim stops it. Here the first event's handler blocks
    /// its tenant while the second, claimed with it, waits its turn.
    @Test(arguments: [false, true])
    func aClaimsReadingOfTheBlockDecidesUntilItIsTooOld(readingTooOld: Bool) async throws {
        let storage = InMemoryStorage()
        try await install(Self.blocked, in: storage)
        let installations = CountingInstallations(storage)
        let ran = Mutex<[String]>([])
        var handlers = EventHandlers()
        handlers.on("customer.created") { context in
            ran.withLock { $0.append(context.event.id) }
            _ = try await storage.admin.block(Self.blocked, reason: nil, by: Self.action)
        }
        let worker = InboxWorker(
            inbox: storage, handlers: handlers, installations: installations,
            options: InboxWorker.Options(blockReadingLifetime: readingTooOld ? .zero : .seconds(60)),
            now: { testNow })
        for (id, created) in [("evt_first", Int64(1)), ("evt_second", 2)] {
            let body = InboxWorkerTests.event(id, type: "customer.created", created: created)
            let event = try AppEvent(json: Array(body.utf8))
            #expect(
                try await storage.inbox.enqueue(InboxEvent(event: event, payload: body, receivedAt: testNow))
                    == .stored)
        }
        #expect(try await worker.processDueEvents() == 2)
        let second = try #require(try await storage.admin.event(id: "evt_second"))
        if readingTooOld {
            #expect(ran.withLock { $0 } == ["evt_first"])
            #expect(second.status == .blocked)
            #expect(installations.reads.load(ordering: .relaxed) == 2, "each event read the installation")
        } else {
            #expect(ran.withLock { $0 } == ["evt_first", "evt_second"], "both were claimed before the block")
            #expect(second.status == .succeeded)
            #expect(installations.reads.load(ordering: .relaxed) == 0, "the claim's reading decided")
        }
    }

    /// A claimed job starts on its claim's reading of the block, with no installation read of its own while that
    /// reading is recent (``JobWorker/Options/blockReadingLifetime``); past it, each tenant job reads the
    /// installation. Either way the blocked tenant's job is cancelled and the other tenant's runs.
    @Test(arguments: [false, true])
    func aJobClaimsReadingOfTheBlockSparesEachJobARead(readingTooOld: Bool) async throws {
        let storage = try await Self.storage()
        let installations = CountingInstallations(storage)
        let ran = Mutex<[String]>([])
        var registry = JobRegistry()
        registry.registerJob(parameters: JobWorkerTests.Greet.self) { parameters, _ in
            ran.withLock { $0.append(parameters.name) }
        }
        let worker = JobWorker(
            queue: storage.jobs, registry: registry, installations: installations,
            options: JobWorker.Options(blockReadingLifetime: readingTooOld ? .zero : .seconds(60)),
            now: { testNow }, logger: Logger(label: "test"))
        let blockedJob = try #require(
            try await worker.push(JobWorkerTests.Greet(name: "blocked"), options: JobOptions(tenant: Self.blocked)))
        let other = Tenant(accountID: "acct_2", mode: .test)
        _ = try await worker.push(JobWorkerTests.Greet(name: "other"), options: JobOptions(tenant: other))
        #expect(try await worker.processDueJobs() == 2)
        #expect(ran.withLock { $0 } == ["other"])
        #expect(try await storage.jobs.job(id: blockedJob)?.status == .cancelled)
        #expect(installations.reads.load(ordering: .relaxed) == (readingTooOld ? 2 : 0))
    }

    /// A job pushed for a blocked tenant is cancelled when claimed, without running; once unblocked, its jobs run,
    /// and per-installation schedules include it again.
    @Test func jobsOfABlockedTenantAreCancelledWithoutRunning() async throws {
        let storage = try await Self.storage()
        let ran = Mutex<[String]>([])
        var registry = JobRegistry()
        registry.registerJob(parameters: JobWorkerTests.Greet.self) { parameters, _ in
            ran.withLock { $0.append(parameters.name) }
        }
        try registry.addSchedule(
            "greet-everyone", try JobSchedule.every(.seconds(60)), parameters: JobWorkerTests.Greet(name: "scheduled"),
            perInstallation: true)
        let clock = TestClock()
        let worker = jobWorker(
            configuration: try AppConfiguration.testing(), storage: storage, registry: registry,
            now: { clock.withLock { $0 } }, logger: Logger(label: "test"))
        let blockedJob = try #require(
            try await worker.push(JobWorkerTests.Greet(name: "blocked"), options: JobOptions(tenant: Self.blocked)))
        let other = Tenant(accountID: "acct_2", mode: .test)
        _ = try await worker.push(JobWorkerTests.Greet(name: "other"), options: JobOptions(tenant: other))
        _ = try await worker.processDueJobs()
        #expect(ran.withLock { $0 } == ["other"])
        let cancelled = try #require(try await storage.jobs.job(id: blockedJob))
        #expect(cancelled.status == .cancelled && cancelled.finishedAt != nil)

        // Slots pass: the blocked tenant gets no scheduled run.
        _ = await worker.advanceSchedules()
        clock.withLock { $0 = $0.addingTimeInterval(120) }
        _ = await worker.advanceSchedules()
        let scheduled = try await storage.jobs.jobs(status: .pending, limit: 100).filter { $0.name == "greet" }
        #expect(!scheduled.isEmpty)
        #expect(!scheduled.contains { $0.tenant == Self.blocked })

        _ = try await storage.admin.unblock(Self.blocked, by: Self.action)
        clock.withLock { $0 = $0.addingTimeInterval(120) }
        _ = await worker.advanceSchedules()
        #expect(
            try await storage.jobs.jobs(status: .pending, limit: 100).contains {
                $0.name == "greet" && $0.tenant == Self.blocked
            })
        _ = try await worker.push(JobWorkerTests.Greet(name: "after"), options: JobOptions(tenant: Self.blocked))
        while try await worker.processDueJobs() > 0 {}
        #expect(ran.withLock { $0 }.contains("after"))
    }
}

/// An installation store that counts the installation reads made through it.
private final class CountingInstallations: InstallationStore {
    let base: any InstallationStore
    let reads = Atomic(0)

    init(_ base: any InstallationStore) { self.base = base }

    func installation(for tenant: Tenant) async throws -> Installation? {
        reads.add(1, ordering: .relaxed)
        return try await base.installation(for: tenant)
    }

    func installations() async throws -> [Installation] { try await base.installations() }

    func apply(_ change: InstallationChange) async throws -> InstallationChange.Outcome {
        try await base.apply(change)
    }
}
