import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import StripeApps
import StripeAppsAPI
import StripeAppsServer
import StripeAppsTesting
import Synchronization
import Testing

/// The job worker over the in-memory queue (the queue's own contract runs on every backend).
@Suite struct JobWorkerTests {
    struct Greet: JobParameters {
        static let jobName = "greet"
        let name: String
    }

    struct Block: JobParameters {
        static let jobName = "block"
    }

    /// Signals once, to whoever waits: a job started, a job ended.
    final class Signal: Sendable {
        private let stream: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation

        init() { (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded) }

        func fire() { continuation.yield() }

        /// Waits for the next signal, or fails the test after `limit`.
        func wait(within limit: Duration = .seconds(30)) async throws {
            #expect(try await firstValue(of: stream, within: limit) != nil, "no signal within \(limit)")
        }
    }

    static func worker(
        _ registry: JobRegistry, storage: InMemoryStorage = InMemoryStorage(), clock: TestClock = TestClock(),
        lease: Duration = .seconds(60), concurrency: Int = 8
    ) -> (JobWorker, InMemoryStorage) {
        let worker = JobWorker(
            queue: storage.jobs, schedules: storage.schedules, registry: registry,
            options: .init(lease: lease, concurrency: concurrency, owner: "w", pollInterval: .milliseconds(50)),
            now: { clock.withLock { $0 } }, logger: Logger(label: "test"))
        return (worker, storage)
    }

    @Test func aPushedJobRunsWithItsParametersAndContext() async throws {
        let seen = Mutex<[String]>([])
        var registry = JobRegistry()
        registry.registerJob(parameters: Greet.self) { parameters, context in
            seen.withLock { $0.append("\(parameters.name) \(context.attempt) \(context.tenant?.accountID ?? "-")") }
            try await context.progress(0.5, message: "half")
        }
        let (worker, storage) = Self.worker(registry)
        let metrics = AppMetrics()
        worker.recordMetrics(into: metrics)
        let tenant = Tenant(accountID: "acct_9", mode: .live)
        let id = try #require(try await worker.push(Greet(name: "Ada"), options: JobOptions(tenant: tenant)))
        #expect(try await worker.processDueJobs() == 1)
        #expect(seen.withLock { $0 } == ["Ada 1 acct_9"])
        let scrape = MetricsTests.Scrape(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(scrape[#"stripe_apps_job_runs_total{job="greet",result="succeeded"}"#] == 1)
        #expect(scrape[#"stripe_apps_job_run_duration_seconds_count{job="greet"}"#] == 1)
        #expect(!scrape.text.contains("acct_9"))
        let done = try #require(try await storage.jobs.job(id: id))
        #expect(done.status == .succeeded && done.progress == 0.5 && done.progressMessage == "half")
        #expect(done.maxAttempts == JobRetryStrategy.exponentialJitter().maxAttempts)
    }

    @Test func pushesOfUnknownTypesFailAndASlotKeyPushesOnce() async throws {
        var registry = JobRegistry()
        registry.registerJob(parameters: Greet.self) { _, _ in }
        let (worker, _) = Self.worker(registry)
        await #expect(throws: JobError.self) { try await worker.push(Block()) }
        let slot = JobOptions(slotKey: "greet:1767225600")
        #expect(try await worker.push(Greet(name: "a"), options: slot) != nil)
        #expect(try await worker.push(Greet(name: "a"), options: slot) == nil)
    }

    /// A failing job is retried after the strategy's delay, then dead once its attempts are used up.
    @Test func failuresAreRetriedWithBackoffThenDead() async throws {
        let runs = Mutex(0)
        var registry = JobRegistry()
        registry.registerJob(
            parameters: Greet.self,
            retryStrategy: .exponentialJitter(maxAttempts: 3, minBackoff: .seconds(10), maxBackoff: .seconds(60))
        ) { _, _ in
            runs.withLock { $0 += 1 }
            throw URLError(.timedOut)
        }
        let clock = TestClock()
        let (worker, storage) = Self.worker(registry, clock: clock)
        let metrics = AppMetrics()
        worker.recordMetrics(into: metrics)
        let id = try #require(try await worker.push(Greet(name: "x")))
        #expect(try await worker.processDueJobs() == 1)
        let failed = try #require(try await storage.jobs.job(id: id))
        #expect(failed.status == .failed && failed.runAt == testNow.addingTimeInterval(10))
        #expect(try await worker.processDueJobs() == 0, "not before its retry time")
        clock.withLock { $0 = $0.addingTimeInterval(11) }
        #expect(try await worker.processDueJobs() == 1)
        let again = try #require(try await storage.jobs.job(id: id))
        let secondDelay = again.runAt.timeIntervalSince(testNow.addingTimeInterval(11))
        #expect(again.status == .failed && (10...20).contains(secondDelay))
        clock.withLock { $0 = $0.addingTimeInterval(21) }
        #expect(try await worker.processDueJobs() == 1)
        let dead = try #require(try await storage.jobs.job(id: id))
        #expect(dead.status == .dead && dead.attempts == 3 && runs.withLock { $0 } == 3)
        #expect(dead.lastError?.isEmpty == false)
        // Each run counted as failed; each started late by the time the clock moved past its retry time.
        let scrape = MetricsTests.Scrape(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(scrape[#"stripe_apps_job_runs_total{job="greet",result="failed"}"#] == 3)
        #expect(scrape[#"stripe_apps_job_start_lag_seconds_count{job="greet"}"#] == 3)
        let lag = try #require(scrape[#"stripe_apps_job_start_lag_seconds_sum{job="greet"}"#])
        #expect(abs(lag - (1 + (21 - secondDelay))) < 0.01)
    }

    /// `jobs cancel` on a running job: the heartbeat says so, the job's task is cancelled, the job is cancelled.
    @Test func aRunningJobAskedToStopIsCancelled() async throws {
        let started = Signal()
        var registry = JobRegistry()
        registry.registerJob(parameters: Block.self) { _, _ in
            started.fire()
            try await Task.sleep(for: .seconds(3600))
        }
        let (worker, storage) = Self.worker(registry, lease: .milliseconds(300))
        let id = try #require(try await worker.push(Block()))
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await worker.processDueJobs() }
            try await started.wait()
            #expect(try await storage.jobs.cancel(id: id, now: testNow)?.cancelRequested == true)
            #expect(try await group.next() == 1)
        }
        #expect(try await storage.jobs.job(id: id)?.status == .cancelled)
    }

    /// A run past its type's timeout is cancelled and fails (then retries).
    @Test func aRunPastItsTimeoutFails() async throws {
        var registry = JobRegistry()
        registry.registerJob(parameters: Block.self, timeout: .milliseconds(200)) { _, _ in
            try await Task.sleep(for: .seconds(3600))
        }
        let (worker, storage) = Self.worker(registry)
        let id = try #require(try await worker.push(Block()))
        #expect(try await worker.processDueJobs() == 1)
        let failed = try #require(try await storage.jobs.job(id: id))
        #expect(failed.status == .failed && failed.lastError?.contains("longer than its timeout") == true)
    }

    /// Another worker took the job over after the lease ran out: this one's run is cancelled and records nothing.
    @Test func aWorkerThatLostItsLeaseStopsAndRecordsNothing() async throws {
        let started = Signal()
        let finished = Signal()
        var registry = JobRegistry()
        registry.registerJob(parameters: Block.self) { _, _ in
            started.fire()
            defer { finished.fire() }
            try await Task.sleep(for: .seconds(3600))
        }
        let storage = InMemoryStorage()
        let (worker, _) = Self.worker(registry, storage: storage, lease: .milliseconds(300))
        let id = try #require(try await worker.push(Block()))
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await worker.processDueJobs() }
            try await started.wait()
            // The lease has run out for a worker whose clock is a second later: it takes the job over.
            let takeover = try #require(
                try await storage.jobs.claim(
                    now: testNow.addingTimeInterval(1), limit: 1, lease: .seconds(60), owner: "other"
                ).first)
            try await finished.wait()
            #expect(try await group.next() == 1)
            let job = try #require(try await storage.jobs.job(id: id))
            #expect(job.status == .running && job.leaseOwner == "other" && job.attempts == 2)
            #expect(try await storage.jobs.complete(takeover, now: testNow))
        }
    }

    @Test func unknownTypesRetryAndUndecodableParametersAreDead() async throws {
        var registry = JobRegistry()
        registry.registerJob(parameters: Greet.self) { _, _ in }
        let (worker, storage) = Self.worker(registry)
        let ghost = try #require(try await storage.jobs.push(NewJob(name: "ghost"), now: testNow))
        let broken = try #require(
            try await storage.jobs.push(NewJob(name: "greet", parameters: #"{"nom":1}"#), now: testNow))
        #expect(try await worker.processDueJobs() == 2)
        let unknown = try #require(try await storage.jobs.job(id: ghost.id))
        #expect(unknown.status == .failed && unknown.lastError?.contains("no job type is registered as ghost") == true)
        let undecodable = try #require(try await storage.jobs.job(id: broken.id))
        #expect(undecodable.status == .dead && undecodable.lastError?.contains("cannot be decoded") == true)
    }

    /// The running worker starts pushed jobs at once, never more than its concurrency at a time, each once.
    @Test func theRunningWorkerRunsEveryJobOnceWithinItsConcurrency() async throws {
        let current = Mutex(0)
        let peak = Mutex(0)
        let ran = Mutex<[String]>([])
        let allDone = Signal()
        var registry = JobRegistry()
        registry.registerJob(parameters: Greet.self) { parameters, _ in
            let now = current.withLock {
                $0 += 1
                return $0
            }
            peak.withLock { $0 = max($0, now) }
            try await Task.sleep(for: .milliseconds(20))
            current.withLock { $0 -= 1 }
            if ran.withLock({
                $0.append(parameters.name)
                return $0.count
            }) == 30 {
                allDone.fire()
            }
        }
        let (worker, storage) = Self.worker(registry, concurrency: 3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            worker.start()
            for index in 0..<30 { try await worker.push(Greet(name: "j\(index)")) }
            // The limit only stops a hang: the 30 jobs take about 0.2 s alone, but a full run on two cores has
            // starved this test for most of a minute.
            try await allDone.wait(within: .seconds(150))
            group.cancelAll()
        }
        #expect(Set(ran.withLock { $0 }).count == 30 && ran.withLock { $0 }.count == 30)
        #expect(peak.withLock { $0 } <= 3 && peak.withLock { $0 } >= 2)
        #expect(try await storage.jobs.jobs(status: .succeeded, limit: 100).count == 30)
    }

    /// The application runs the worker given in its hooks, and starts it once storage is migrated.
    @Test func theApplicationRunsItsJobWorker() async throws {
        let done = Signal()
        var registry = JobRegistry()
        registry.registerJob(parameters: Greet.self) { parameters, _ in
            if parameters.name == "from the app" { done.fire() }
        }
        let storage = InMemoryStorage()
        var configuration = try AppConfiguration.testing()
        configuration.jobConcurrency = 2
        let worker = jobWorker(
            configuration: configuration, storage: storage, registry: registry, now: { testNow },
            logger: Logger(label: "test"))
        let app = try buildApplication(
            configuration: configuration, storage: storage, hooks: ApplicationHooks(now: { testNow }, jobWorker: worker)
        )
        try await app.test(.router) { _ in
            try await worker.push(Greet(name: "from the app"))
            try await done.wait()
        }
        #expect(try await storage.jobs.jobs(status: nil, limit: 10).count == 1)
    }

    /// A per-installation schedule: each active tenant gets one run per slot; an uninstalled tenant none; a
    /// reinstall resumes; a long outage runs the newest missed slot once.
    @Test func aPerInstallationScheduleRunsEachActiveTenantOncePerSlot() async throws {
        let ran = Mutex<[String]>([])
        var registry = JobRegistry()
        registry.registerJob(parameters: Greet.self) { parameters, context in
            ran.withLock { $0.append("\(parameters.name) \(context.tenant?.accountID ?? "-")") }
        }
        try registry.addSchedule(
            "greet-all", try JobSchedule.every(.seconds(60)), parameters: Greet(name: "hello"), perInstallation: true)
        let clock = TestClock()
        let (worker, storage) = Self.worker(registry, clock: clock)
        let a = Tenant(accountID: "acct_a", mode: .live)
        let b = Tenant(accountID: "acct_b", mode: .test)
        func change(_ tenant: Tenant, _ action: InstallationChange.Action) async throws {
            let at = clock.withLock { $0 }
            _ = try await storage.installations.apply(
                InstallationChange(
                    tenant: tenant, action: action, source: .installCallback, occurredAt: at, recordedAt: at))
        }
        func advance(_ seconds: TimeInterval) { clock.withLock { $0 = $0.addingTimeInterval(seconds) } }
        try await change(a, .activate)
        try await change(b, .activate)
        #expect(await worker.advanceSchedules() == 0, "registered now: no backfill")
        advance(61)
        #expect(await worker.advanceSchedules() == 2)
        #expect(await worker.advanceSchedules() == 0, "the slot is taken")
        #expect(try await worker.processDueJobs() == 2)
        #expect(Set(ran.withLock { $0 }) == ["hello acct_a", "hello acct_b"])
        let keys = try await storage.jobs.jobs(status: .succeeded, limit: 10).compactMap(\.slotKey)
        #expect(keys.allSatisfy { $0.hasPrefix("greet-all:acct_") } && Set(keys).count == 2)

        advance(1)
        try await change(b, .deactivate)
        advance(60)
        #expect(await worker.advanceSchedules() == 1, "only the tenant still installed")
        advance(1)
        try await change(b, .activate)
        advance(60)
        #expect(await worker.advanceSchedules() == 2, "the reinstall resumes")
        // Three days without any instance: the newest missed slot runs once per tenant (`.latest`).
        advance(3 * 86_400)
        #expect(await worker.advanceSchedules() == 2)
        #expect(await worker.advanceSchedules() == 0)
    }

    /// An idle worker writes nothing between slots: a schedule is advanced again only once the next slot its last
    /// advance stored has come.
    @Test func anIdleWorkerAdvancesASchedulesOnlyWhenItsNextSlotComes() async throws {
        var registry = JobRegistry()
        registry.registerJob(parameters: Greet.self) { _, _ in }
        try registry.addSchedule("minutely", try JobSchedule.every(.seconds(60)), parameters: Greet(name: "m"))
        let clock = TestClock()
        let (worker, storage) = Self.worker(registry, clock: clock)
        func advanced() async throws -> Date? { try await storage.schedules.schedules().first?.updatedAt }
        #expect(await worker.advanceSchedules() == 0)
        let first = try #require(try await advanced())
        let next = try #require(try await storage.schedules.schedules().first?.nextSlot)
        clock.withLock { $0 = next.addingTimeInterval(-1) }
        #expect(await worker.advanceSchedules() == 0)
        #expect(try await advanced() == first, "before the next slot: not written")
        clock.withLock { $0 = next }
        #expect(await worker.advanceSchedules() == 1)
        #expect(try await advanced() == next)
    }

    /// A job for a tenant reaches that tenant's Stripe account (the fake Stripe) and its sealed secrets; a global
    /// job gets a clear error for either.
    @Test func aTenantsJobGetsItsStripeClientAndCredentials() async throws {
        let fake = FakeStripe(now: { testNow })
        let account = StripeAPIIntegrationTests.account
        fake.addAccount(account)
        try await fake.withServer { url in
            var configuration = try AppConfiguration.testing()
            configuration.stripeAPIBaseURL = url.absoluteString
            configuration.stripeSecretKeys = [try APICredential(secretKey: fake.testSecretKey)]
            configuration.credentialCipher = try CredentialCipher(keys: [SymmetricKey(size: .bits256)])
            let results = Mutex<[String]>([])
            var registry = JobRegistry()
            registry.registerJob(parameters: Greet.self, retryStrategy: .dontRetry) { parameters, context in
                guard context.tenant != nil else {
                    await #expect(throws: JobError.self) { try await context.stripe() }
                    #expect(throws: JobError.self) { try context.credentials() }
                    results.withLock { $0.append("global") }
                    return
                }
                let client = try await context.stripe()
                _ = try await client.customers.create(
                    ["name": .string(parameters.name)],
                    idempotencyKey: try IdempotencyKey(context.idempotencyKey(step: "create")))
                var names: [String] = []
                for try await customer in client.customers.all() { names.append(customer.name ?? "") }
                try await context.credentials().setSecret("crm-key-1", named: "crm.api_key", for: context.tenant!)
                results.withLock { $0.append(names.joined(separator: ",")) }
            }
            let storage = InMemoryStorage()
            let worker = jobWorker(
                configuration: configuration, storage: storage, registry: registry, now: { testNow },
                logger: Logger(label: "test"))
            let tenant = Tenant(accountID: account, mode: .test)
            try await worker.push(Greet(name: "Ada"), options: JobOptions(tenant: tenant))
            try await worker.push(Greet(name: "nobody"))
            #expect(try await worker.processDueJobs() == 2)
            #expect(Set(results.withLock { $0 }) == ["Ada", "global"])
            #expect(fake.requests.contains { $0.stripeAccount == account && $0.path == "/v1/customers" })
            let credentials = TenantCredentials(store: storage.credentials, cipher: configuration.credentialCipher!)
            #expect(try await credentials.secret(named: "crm.api_key", for: tenant) == "crm-key-1")
            #expect(try await storage.jobs.jobs(status: .succeeded, limit: 5).count == 2)
        }
    }

    /// An uninstall during a long job of its tenant stops the job, which ends cancelled.
    @Test func anUninstallStopsTheTenantsRunningJob() async throws {
        let started = Signal()
        var registry = JobRegistry()
        registry.registerJob(parameters: Block.self) { _, _ in
            started.fire()
            try await Task.sleep(for: .seconds(3600))
        }
        let (worker, storage) = Self.worker(registry, lease: .milliseconds(300))
        let tenant = Tenant(accountID: "acct_leaving", mode: .live)
        let id = try #require(try await worker.push(Block(), options: JobOptions(tenant: tenant)))
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await worker.processDueJobs() }
            try await started.wait()
            for action in [InstallationChange.Action.activate, .deactivate] {
                _ = try await storage.installations.apply(
                    InstallationChange(
                        tenant: tenant, action: action, source: .installCallback,
                        occurredAt: testNow.addingTimeInterval(action == .activate ? 0 : 1), recordedAt: testNow))
            }
            #expect(try await group.next() == 1)
        }
        #expect(try await storage.jobs.job(id: id)?.status == .cancelled)
    }

    /// With Stripe access configured, the worker recovers each installation's undelivered events as a scheduled
    /// per-installation job (`EVENT_RECOVERY_HOURS`).
    @Test func undeliveredEventsAreRecoveredByAScheduledJob() async throws {
        let fake = FakeStripe(now: { testNow })
        let account = StripeAPIIntegrationTests.account
        fake.addAccount(account)
        let missed = fake.addEvent(type: "invoice.paid", account: account, deliverySuccess: false)
        _ = fake.addEvent(type: "invoice.paid", account: account, deliverySuccess: true)
        try await fake.withServer { url in
            var configuration = try AppConfiguration.testing()
            configuration.stripeAPIBaseURL = url.absoluteString
            configuration.stripeSecretKeys = [try APICredential(secretKey: fake.testSecretKey)]
            configuration.eventRecoveryHours = 1
            let storage = InMemoryStorage()
            let clock = TestClock()
            let tenant = Tenant(accountID: account, mode: .test)
            _ = try await storage.installations.apply(
                InstallationChange(
                    tenant: tenant, action: .activate, source: .installCallback, occurredAt: testNow,
                    recordedAt: testNow))
            let worker = jobWorker(
                configuration: configuration, storage: storage, registry: JobRegistry(),
                now: { clock.withLock { $0 } }, logger: Logger(label: "test"))
            #expect(await worker.advanceSchedules() == 0, "registered now")
            clock.withLock { $0 = $0.addingTimeInterval(7200) }
            #expect(await worker.advanceSchedules() == 4, "one installation's on-time slot, and the 3 pruning jobs")
            clock.withLock { $0 = $0.addingTimeInterval(1000) }  // past the tenant's jitter (at most 15 minutes)
            #expect(try await worker.processDueJobs() == 4)
            #expect(try await storage.inbox.events(status: nil, limit: 10).map(\.id) == [missed])
            #expect(
                try await storage.jobs.jobs(status: .succeeded, limit: 5).map(\.name).contains(
                    "stripe_apps_backend.recover_missed_events"))
        }
        // Without Stripe access there is nothing to recover with: no schedule.
        let storage = InMemoryStorage()
        let clock = TestClock()
        let worker = jobWorker(
            configuration: try AppConfiguration.testing(), storage: storage, registry: JobRegistry(),
            now: { clock.withLock { $0 } }, logger: Logger(label: "test"))
        _ = await worker.advanceSchedules()
        clock.withLock { $0 = $0.addingTimeInterval(3 * 86_400) }
        #expect(await worker.advanceSchedules() == 3, "only the pruning jobs")
        #expect(
            try await storage.schedules.schedules().map(\.name) == [
                "stripe_apps_backend.prune-inbox", "stripe_apps_backend.prune-install-states",
                "stripe_apps_backend.prune-jobs",
            ])
    }

    /// The backend's own pruning runs as global scheduled jobs: expired install states, the payloads of finished
    /// events past `EVENT_RETENTION_DAYS`, and finished jobs past `JOB_RETENTION_DAYS`; nothing younger.
    @Test func theBackendsOwnJobsPruneStatesEventPayloadsAndFinishedJobs() async throws {
        let storage = InMemoryStorage()
        let clock = TestClock()
        let day: TimeInterval = 86_400
        for (name, lifetime) in [("old", -1.0), ("fresh", 7200)] {
            try await storage.installStates.save(
                InstallState(
                    stateHash: InstallState.hash(of: name), appValue: nil, mode: nil, createdAt: testNow,
                    expiresAt: testNow.addingTimeInterval(lifetime)))
        }
        for (id, age) in [("evt_old", 31 * day), ("evt_recent", day)] {
            var event = InboxEvent(
                id: id, type: "invoice.paid", isLiveMode: false, accountID: "acct_prune", created: 0,
                receivedAt: testNow.addingTimeInterval(-age), payload: #"{"id":"\#(id)"}"#)
            event.status = .succeeded
            _ = try await storage.inbox.enqueue(event)
        }
        // One job finished 40 days ago, one a day ago, one still pending.
        var finished: [String: String] = [:]
        for (label, age) in [("old", 40 * day), ("recent", day)] {
            let at = testNow.addingTimeInterval(-age)
            let job = try #require(try await storage.jobs.push(NewJob(name: "x"), now: at))
            let claim = try #require(
                try await storage.jobs.claim(now: at, limit: 1, lease: .seconds(60), owner: "t").first)
            #expect(try await storage.jobs.complete(claim, now: at))
            finished[label] = job.id
        }
        let pending = try #require(try await storage.jobs.push(NewJob(name: "x", runAt: .distantFuture), now: testNow))

        var configuration = try AppConfiguration.testing()
        configuration.eventRetentionDays = 30
        configuration.jobRetentionDays = 31
        let worker = jobWorker(
            configuration: configuration, storage: storage, registry: JobRegistry(), now: { clock.withLock { $0 } },
            logger: Logger(label: "test"))
        #expect(await worker.advanceSchedules() == 0, "registered now: no backfill")
        clock.withLock { $0 = $0.addingTimeInterval(3600) }
        #expect(await worker.advanceSchedules() == 3)
        #expect(await worker.advanceSchedules() == 0, "each slot once")
        #expect(try await worker.processDueJobs() == 3)

        #expect(try await storage.installStates.deleteExpired(now: .distantFuture) == 1, "only the fresh state left")
        let events = Dictionary(
            uniqueKeysWithValues: try await storage.inbox.events(status: nil, limit: 10).map { ($0.id, $0) })
        #expect(events["evt_old"]?.isPruned == true)
        #expect(events["evt_recent"]?.isPruned == false)
        #expect(try await storage.jobs.job(id: finished["old"] ?? "") == nil)
        #expect(try await storage.jobs.job(id: finished["recent"] ?? "") != nil)
        #expect(try await storage.jobs.job(id: pending.id)?.status == .pending)
        let ran = try await storage.jobs.jobs(status: .succeeded, limit: 10).filter { $0.name.hasPrefix("stripe_apps") }
        #expect(
            Set(ran.compactMap(\.progressMessage)) == [
                "1 expired install states deleted", "1 finished events' payloads deleted", "1 finished jobs deleted",
            ])
    }
}
