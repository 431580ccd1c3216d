public import Foundation
public import Logging
public import ServiceLifecycle
public import StripeApps
import Synchronization
import Tracing

/// Runs the jobs of a ``StripeApps/JobQueue`` under a lease, on any number of instances: registered types only,
/// several at once, with heartbeats, time limits, retries and cooperative cancellation.
///
/// The worker claims due jobs (up to ``Options/concurrency`` running), extends their leases every third of the
/// lease, and cancels a job's task when the heartbeat says someone asked it to stop (`jobs cancel`, an uninstall),
/// when it lost its lease (another instance took the job over), or when it ran past its type's timeout. A job
/// that throws is retried after its type's ``JobRetryStrategy`` delay until its attempts are used up, then dead;
/// one whose parameters cannot be decoded, or whose type is not registered here on its last attempt, is dead.
/// Push jobs with ``push(_:options:)``: the worker starts them at once when it has room. Build it with
/// ``jobWorker(configuration:storage:registry:now:logger:)`` and give it to ``ApplicationHooks/jobWorker``; the
/// application runs it as a service and starts it once storage is migrated.
public final class JobWorker: Service, Sendable {
    /// How the worker claims and runs jobs.
    public struct Options: Sendable {
        /// How long a claim holds a job before another worker may take it; heartbeats extend it.
        public var lease: Duration
        /// The most jobs running at once on this instance.
        public var concurrency: Int
        /// The name this worker claims under, unique per instance.
        public var owner: String
        /// How often the worker looks for due jobs when nothing wakes it.
        public var pollInterval: Duration
        /// How long the tenant block a claim read (``StripeApps/ClaimedJob/tenantBlockedWhenClaimed``) decides
        /// whether its job runs (1 s by default): a job that starts later reads its installation again, as
        /// ``InboxWorker/Options/blockReadingLifetime`` does for events.
        public var blockReadingLifetime: Duration

        /// Creates options.
        public init(
            lease: Duration = .seconds(60), concurrency: Int = 16, owner: String = InboxWorker.defaultOwner(),
            pollInterval: Duration = .seconds(1), blockReadingLifetime: Duration = .seconds(1)
        ) {
            self.lease = lease
            self.concurrency = max(1, concurrency)
            self.owner = owner
            self.pollInterval = pollInterval
            self.blockReadingLifetime = blockReadingLifetime
        }
    }

    /// Why a running job's task was cancelled.
    enum StopReason: Sendable {
        case requested, leaseLost, timedOut, shutdown
    }

    /// A job running here: its claim, its task, and why it was stopped, if it was.
    final class Running: Sendable {
        let claim: ClaimedJob
        /// When the claim was asked for: how old, at most, its reading of the tenant block is.
        let claimedAt: ContinuousClock.Instant
        let reason = Mutex<StopReason?>(nil)
        let task = Mutex<Task<Void, any Error>?>(nil)

        init(_ claim: ClaimedJob, claimedAt: ContinuousClock.Instant) {
            self.claim = claim
            self.claimedAt = claimedAt
        }

        func stop(_ why: StopReason) {
            let task = reason.withLock { reason -> Task<Void, any Error>? in
                if reason == nil { reason = why }
                return self.task.withLock { $0 }
            }
            task?.cancel()
        }
    }

    let queue: any JobQueue
    let schedules: (any ScheduleStore)?
    let registry: JobRegistry
    let access: TenantAccess?
    /// Where a tenant's block is read before its job runs.
    let installations: (any InstallationStore)?
    let options: Options
    let now: @Sendable () -> Date
    let logger: Logger
    /// Where runs and the jobs' Stripe API calls are recorded, once the application set it.
    let metrics: MetricsHandle
    /// Every job this worker holds a lease on: running, or claimed and waiting for a free slot.
    private let running = Mutex<[String: Running]>([:])
    /// Claimed jobs waiting for a free slot, oldest claim first.
    private let waiting = Mutex<[Running]>([])
    private let isStarted = Atomic(false)
    /// Whether a claim is in flight (the run loop starts one at a time).
    private let isClaiming = Atomic(false)
    /// Whether the last claim filled its batch: more jobs are due than this worker holds.
    private let hasBacklog = Atomic(false)
    /// Each schedule's next slot as its last advance here said: until then, the poll does not advance it.
    private let nextSlots = Mutex<[String: Date]>([:])
    /// Whether something announced due jobs (a push, the poll, another instance) since the last claim started.
    private let needsClaim = Atomic(false)
    /// A moving average of how long runs take, in seconds; it starts long, so a new worker holds no more jobs
    /// than it runs until it has seen short runs.
    private let averageRun = Mutex(1.0)
    /// The time limits of the runs in progress, one checking task for all of them.
    private let deadlines: HandlerDeadlines
    private let wakeUp: AsyncStream<Void>.Continuation
    private let wakeUps: AsyncStream<Void>

    /// Creates a worker over `queue` for the types in `registry`.
    ///
    /// - Parameter installations: When given, the job of a blocked tenant (``StripeApps/TenantBlock``) is cancelled
    ///   instead of run: the claim's reading of the block decides while it is recent
    ///   (``Options/blockReadingLifetime``), and these are read for a job that starts later or whose claim did not
    ///   say. ``jobWorker(configuration:storage:registry:now:logger:)`` passes the storage's.
    public convenience init(
        queue: some JobQueue,
        schedules: (any ScheduleStore)? = nil,
        registry: JobRegistry,
        access: TenantAccess? = nil,
        installations: (any InstallationStore)? = nil,
        options: Options = Options(),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.init(
            queue: queue, schedules: schedules, registry: registry, access: access, installations: installations,
            options: options, now: now, logger: logger, metrics: MetricsHandle())
    }

    /// Creates a worker recording into `metrics`, which its `access` clients may already record into.
    init(
        queue: some JobQueue,
        schedules: (any ScheduleStore)?,
        registry: JobRegistry,
        access: TenantAccess?,
        installations: (any InstallationStore)?,
        options: Options,
        now: @escaping @Sendable () -> Date,
        logger: Logger,
        metrics: MetricsHandle
    ) {
        self.metrics = metrics
        self.queue = queue
        self.schedules = schedules
        self.registry = registry
        self.access = access
        self.installations = installations
        self.options = options
        // Checked a few times within the shortest registered timeout, and at least every second.
        let shortest = registry.registrations.values.map(\.timeout).min() ?? .seconds(300)
        deadlines = HandlerDeadlines(resolution: min(.seconds(1), shortest / 4))
        self.now = now
        self.logger = logger
        (wakeUps, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Pushes a job of a registered type; returns its id, or `nil` when `options.slotKey` already has its job.
    ///
    /// - Throws: ``JobError`` when the type is not registered here (nothing would run it), or what storage
    ///   throws.
    @discardableResult
    public func push<Parameters: JobParameters>(_ parameters: Parameters, options: JobOptions = JobOptions())
        async throws -> String?
    {
        guard let registration = registry.registrations[Parameters.jobName] else {
            throw JobError(unregistered: Parameters.jobName)
        }
        let json = String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self)
        let job = NewJob(
            name: Parameters.jobName, tenant: options.tenant, parameters: json, priority: options.priority,
            maxAttempts: registration.retryStrategy.maxAttempts, runAt: options.runAt, slotKey: options.slotKey)
        guard let stored = try await queue.push(job, now: now()) else { return nil }
        notify()
        return stored.id
    }

    /// Wakes the worker to claim at once.
    public func notify() {
        needsClaim.store(true, ordering: .releasing)
        wakeUp.yield()
    }

    /// Lets the running worker claim: call it once storage is migrated (``buildApplication(configuration:storage:logger:hooks:)``
    /// does, before the server starts). Until then ``run()`` waits, and pushes are stored for later.
    public func start() {
        isStarted.store(true, ordering: .releasing)
        notify()
    }

    /// Claims and runs jobs until the application shuts down; running jobs are then cancelled and left to their
    /// leases (another instance runs them again).
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.heartbeatLoop() }
                // A poll wakes the loop too, for delayed jobs and expired leases nothing else announces, and
                // advances the schedules (any instance may: the database decides who pushes each slot).
                group.addTask {
                    while (try? await Task.sleep(for: self.options.pollInterval)) != nil {
                        if self.isStarted.load(ordering: .acquiring) { await self.advanceSchedules() }
                        self.notify()
                    }
                }
                notify()
                // Each wake-up (a push, a finished run, the poll) starts held jobs in the free slots, then maybe
                // claims. The claim runs beside the loop, one at a time, so runs that end meanwhile start the jobs
                // already waiting instead of waiting for its round trip. See ``claimRoom(held:waiting:)``.
                for await _ in wakeUps {
                    guard isStarted.load(ordering: .acquiring) else { continue }
                    for job in startable() { group.addTask { await self.execute(job) } }
                    let (held, waitingCount) = running.withLock { ($0.count, self.waiting.withLock(\.count)) }
                    guard let room = claimRoom(held: held, waiting: waitingCount),
                        isClaiming.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
                    else { continue }
                    needsClaim.store(false, ordering: .releasing)
                    group.addTask {
                        defer {
                            self.isClaiming.store(false, ordering: .releasing)
                            self.wakeUp.yield()
                        }
                        let claimedAt = ContinuousClock.now
                        let claims =
                            (try? await self.queue.claim(
                                now: self.now(), limit: room, lease: self.options.lease, owner: self.options.owner))
                            ?? []
                        self.hasBacklog.store(claims.count == room, ordering: .relaxed)
                        for claim in claims {
                            let job = Running(claim, claimedAt: claimedAt)
                            self.running.withLock { $0[claim.id] = job }
                            self.waiting.withLock { $0.append(job) }
                        }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            for job in self.running.withLock({ Array($0.values) }) { job.stop(.shutdown) }
            self.wakeUp.finish()
        }
    }

    /// Advances every registered schedule once: pushes the jobs of the slots now due (each once, whichever
    /// instance gets there first) and records where each schedule resumes. Returns how many jobs were new. The
    /// running worker calls it every poll interval; tools and tests may call it themselves.
    ///
    /// A schedule whose next slot, as its last advance here said, has not come yet is left alone: an idle
    /// instance writes nothing every second. This is only a shortcut: the database still decides who pushes each
    /// slot, and an instance whose clock runs behind the database's advances that much later (within `grace`,
    /// the slot still runs as itself).
    @discardableResult
    public func advanceSchedules() async -> Int {
        guard let schedules else { return 0 }
        var pushed = 0
        for scheduled in registry.schedules {
            let now = now()
            if let next = nextSlots.withLock({ $0[scheduled.name] }), now < next { continue }
            let maxAttempts = registry.registrations[scheduled.jobName]?.retryStrategy.maxAttempts ?? 1
            do {
                let outcome = try await schedules.advance(
                    schedule: scheduled.name, now: now, withInstallations: scheduled.perInstallation
                ) { cursor in scheduled.plan(cursor, maxAttempts: maxAttempts) }
                if let plan = outcome?.plan {
                    nextSlots.withLock { $0[scheduled.name] = plan.nextSlot ?? .distantFuture }
                }
                pushed += outcome?.pushed ?? 0
            } catch {
                logger.warning(
                    "schedule not advanced; it catches up at the next poll",
                    metadata: ["job.schedule": .string(scheduled.name), "error": "\(error)"])
            }
        }
        if pushed > 0 { notify() }
        return pushed
    }

    /// How many jobs to claim now, or `nil` to claim nothing.
    ///
    /// While runs are short (a moving average under 50 ms), the worker holds up to four times its concurrency, as
    /// the inbox worker does, and, while the last claim found a backlog (it filled its batch), claims only once at
    /// least the concurrency is free: one commit then serves many runs. Long runs hold no more than the concurrency
    /// (a job waiting here behind a slow one is a job another instance could run), and claim as soon as a slot
    /// frees. With no backlog, only an announcement (a push, the poll, another instance) claims, so at a low rate a
    /// push costs one claim and a finished run none.
    func claimRoom(held: Int, waiting: Int) -> Int? {
        let concurrency = options.concurrency
        let short = averageRun.withLock { $0 } < 0.05
        let backlog = hasBacklog.load(ordering: .relaxed)
        let room = (short ? 4 * concurrency : concurrency) - held
        let batch = short && backlog ? concurrency : 1
        guard room >= batch, waiting <= concurrency / 2, backlog || needsClaim.load(ordering: .acquiring) else {
            return nil
        }
        return room
    }

    /// Folds one run's duration into the moving average that sizes claims.
    private func recordRun(took duration: Duration) {
        averageRun.withLock { $0 = 0.9 * $0 + 0.1 * duration.timeInterval }
    }

    /// The waiting jobs that fit in the free slots, taken off the waiting list.
    private func startable() -> [Running] {
        running.withLock { held in
            waiting.withLock { waiting in
                let executing = held.count - waiting.count
                let count = max(0, min(waiting.count, options.concurrency - executing))
                let started = Array(waiting.prefix(count))
                waiting.removeFirst(count)
                return started
            }
        }
    }

    /// Claims once and runs what it got to the end: for tools and tests that drive the queue by hand. Returns
    /// how many jobs it ran.
    @discardableResult
    public func processDueJobs() async throws -> Int {
        let claimedAt = ContinuousClock.now
        let claims = try await queue.claim(
            now: now(), limit: options.concurrency, lease: options.lease, owner: options.owner)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeatLoop() }
            await withDiscardingTaskGroup { runs in
                for claim in claims {
                    let job = Running(claim, claimedAt: claimedAt)
                    running.withLock { $0[claim.id] = job }
                    runs.addTask { await self.execute(job) }
                }
            }
            group.cancelAll()
        }
        return claims.count
    }

    /// Extends the leases of the running jobs every third of the lease; stops those asked to stop or lost.
    func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.lease / 3)
            if Task.isCancelled { return }
            await heartbeat()
        }
    }

    /// One heartbeat of every running job.
    func heartbeat() async {
        let jobs = running.withLock { Array($0.values) }
        guard !jobs.isEmpty else { return }
        do {
            let held = try await queue.heartbeat(jobs.map(\.claim), now: now(), lease: options.lease)
            for job in jobs {
                switch held[job.claim.id] {
                case nil: job.stop(.leaseLost)
                case true?: job.stop(.requested)
                case false?: break
                }
            }
        } catch {
            logger.warning("job heartbeat failed; leases may lapse", metadata: ["error": "\(error)"])
        }
    }

    /// Runs one claimed job to its end and records the outcome.
    func execute(_ job: Running) async {
        defer { release(job) }
        let claim = job.claim
        var logger = self.logger
        logger[metadataKey: "job.id"] = .string(claim.id)
        logger[metadataKey: "job.name"] = .string(claim.job.name)
        logger[metadataKey: "job.attempt"] = "\(claim.job.attempts)"
        if let tenant = claim.job.tenant {
            logger[metadataKey: "stripe.account"] = .string(tenant.accountID)
            logger[metadataKey: "stripe.mode"] = .string(tenant.mode.description)
        }
        // Nothing runs for a blocked tenant: the block cancelled its queued jobs, but one may be pushed since. The
        // claim read the block in the statement that made it; only a job that waited since reads it again.
        if let installations, let tenant = claim.job.tenant {
            do {
                if try await installations.isBlocked(
                    tenant, claimReading: claim.tenantBlockedWhenClaimed, claimedAt: job.claimedAt,
                    lifetime: options.blockReadingLifetime)
                {
                    _ = try await queue.stopped(claim, now: now())
                    logger.info("job of a blocked tenant cancelled; it did not run")
                    return
                }
            } catch {
                await record(
                    job, error: JobError("whether the tenant is blocked could not be read: \(type(of: error))"),
                    strategy: .exponentialJitter(), logger: logger)
                return
            }
        }
        guard let registration = registry.registrations[claim.job.name] else {
            // Another instance (a newer release, mid-deploy) may know the type: retry like any failure.
            await record(
                job, error: JobError(unregistered: claim.job.name), strategy: .exponentialJitter(), logger: logger)
            return
        }
        let queue = self.queue
        let context = JobExecutionContext(
            jobID: claim.id, attempt: claim.job.attempts, queuedAt: claim.job.queuedAt, tenant: claim.job.tenant,
            slotKey: claim.job.slotKey, logger: logger,
            reportProgress: { fraction, message in
                _ = try await queue.recordProgress(claim, fraction: fraction, message: message)
            }, access: access)
        let task = Task {
            // One span per run (a no-op unless traces are configured); the job's own calls nest in it.
            try await withSpan("stripe_apps.job.run", ofKind: .consumer) { span in
                span.attributes["stripe_apps.job.name"] = claim.job.name
                span.attributes["stripe_apps.job.attempt"] = claim.job.attempts
                try await registration.run(claim.job.parameters, context)
            }
        }
        job.task.withLock { $0 = task }
        if job.reason.withLock({ $0 }) != nil { task.cancel() }
        let timeout = registration.timeout
        let deadline = deadlines.add(at: .now + timeout) { job.stop(.timedOut) }
        let started = ContinuousClock.now
        let lag = Duration.seconds(now().timeIntervalSince(claim.job.runAt))
        let result = await task.result
        let took = ContinuousClock.now - started
        recordRun(took: took)
        defer {
            metrics.current?.recordJobRun(
                name: claim.job.name, result: Self.metricsResult(result, job.reason.withLock { $0 }), lag: lag,
                duration: took)
        }
        deadlines.remove(deadline)
        // The slot is free before the outcome commits (outcomes of several runs share a commit), and the claim
        // needs no more heartbeats: its lease ends with that write, or runs out if it fails.
        release(job)
        switch (result, job.reason.withLock { $0 }) {
        case (.success, _):
            do {
                if try await !self.queue.complete(claim, now: now()) {
                    logger.warning("job finished after its lease was lost; its outcome is not recorded")
                }
            } catch {
                logger.error(
                    "job finished but its outcome was not recorded; it runs again once its lease ends",
                    metadata: ["error": "\(error)"])
            }
        case (.failure, .requested?):
            _ = try? await self.queue.stopped(claim, now: now())
            logger.info("job stopped as asked")
        case (.failure, .leaseLost?), (.failure, .shutdown?):
            logger.info("job interrupted; it runs again once its lease ends")
        case (.failure, .timedOut?):
            await record(
                job, error: JobError(timedOutAfter: timeout), strategy: registration.retryStrategy, logger: logger)
        case (.failure(let error), nil):
            await record(job, error: error, strategy: registration.retryStrategy, logger: logger)
        }
    }

    /// The `result` label of a run that ended with `result`, stopped for `reason`.
    static func metricsResult(_ result: Result<Void, any Error>, _ reason: StopReason?) -> String {
        switch (result, reason) {
        case (.success, _): "succeeded"
        case (.failure, .requested?): "stopped"
        case (.failure, .leaseLost?), (.failure, .shutdown?): "interrupted"
        case (.failure, .timedOut?): "timed_out"
        case (.failure, nil): "failed"
        }
    }

    /// Records its runs in `metrics` from now on (`stripe_apps_job_runs_total`, run durations, start lag), and its
    /// jobs' Stripe API calls; the application calls it with its own.
    public func recordMetrics(into metrics: AppMetrics) {
        self.metrics.set(metrics)
    }

    /// Frees the job's slot and wakes the run loop to fill it; a second call does nothing.
    private func release(_ job: Running) {
        guard running.withLock({ $0.removeValue(forKey: job.claim.id) }) != nil else { return }
        wakeUp.yield()
    }

    /// Records a failed run: retried after the strategy's delay while attempts remain, else dead.
    private func record(_ job: Running, error: any Error, strategy: JobRetryStrategy, logger: Logger) async {
        let claim = job.claim
        let text = LogRedaction.redact(String(describing: error))
        let delay =
            error is UndecodableParameters
            ? nil : strategy.delay(afterAttempts: claim.job.attempts, maxAttempts: claim.job.maxAttempts)
        let now = now()
        let retryAt = delay.map { now.addingTimeInterval($0.timeInterval) }
        do {
            _ = try await queue.fail(claim, error: text, retryAt: retryAt, now: now)
            logger.warning(
                retryAt == nil ? "job failed for good" : "job failed; will retry",
                metadata: ["error": .string(text), "job.retry_in_seconds": "\(delay?.timeInterval ?? -1)"])
        } catch {
            logger.error("job outcome not recorded; it runs again once its lease ends", metadata: ["error": "\(error)"])
        }
    }
}

/// Why a job could not be pushed or run.
public struct JobError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }

    init(unregistered name: String) {
        description = "no job type is registered as \(name.prefix(100)) on this instance"
    }

    init(timedOutAfter timeout: Duration) {
        description = "the run took longer than its timeout of \(timeout) and was cancelled"
    }
}

/// The worker of the registered job types over the storage's queue, with the configuration's concurrency and
/// lease (`JOB_CONCURRENCY`, `JOB_LEASE_SECONDS`); give it to ``ApplicationHooks/jobWorker`` and push jobs with it.
///
/// It adds the backend's own periodic work: expired install states deleted every 5 minutes, finished events'
/// payloads past `EVENT_RETENTION_DAYS` and finished jobs past `JOB_RETENTION_DAYS` deleted every hour, and, with
/// Stripe access configured, every `EVENT_RECOVERY_HOURS` (24) each active installation's undelivered events
/// recovered through the Events API into the inbox.
public func jobWorker<Storage: StorageBackend>(
    configuration: AppConfiguration,
    storage: Storage,
    registry: JobRegistry,
    now: @escaping @Sendable () -> Date = { Date() },
    logger: Logger
) -> JobWorker {
    let metrics = MetricsHandle()
    let access = TenantAccess(
        configuration: configuration, credentials: storage.credentials, observer: metrics.stripeAPIObserver)
    var registry = registry
    BuiltInJobs.registerMaintenance(
        in: &registry, installStates: storage.installStates, inbox: storage.inbox, jobs: storage.jobs,
        eventRetention: .seconds(Int64(configuration.eventRetentionDays) * 86_400),
        jobRetention: .seconds(Int64(configuration.jobRetentionDays) * 86_400), now: now)
    if let clients = access.clients, configuration.eventRecoveryHours > 0 {
        BuiltInJobs.registerRecovery(
            in: &registry, every: configuration.eventRecoveryHours, installations: storage.installations,
            inbox: storage.inbox, clients: clients, now: now)
    }
    return JobWorker(
        queue: storage.jobs, schedules: storage.schedules, registry: registry, access: access,
        installations: storage.installations,
        options: JobWorker.Options(
            lease: .seconds(Int64(configuration.jobLeaseSeconds)), concurrency: configuration.jobConcurrency,
            owner: configuration.instanceID ?? InboxWorker.defaultOwner()),
        now: now, logger: logger, metrics: metrics)
}
