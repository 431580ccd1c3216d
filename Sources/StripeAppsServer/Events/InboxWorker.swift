public import Foundation
public import Logging
public import ServiceLifecycle
public import StripeApps
import Synchronization
import Tracing

/// Runs the handlers of stored events under a lease, with retries and dead letters, on any number of instances.
///
/// The worker claims due events from the ``StripeApps/EventInbox`` for a lease (60 s by default) with its
/// ``Options/owner`` name, runs their handlers (several at once, up to ``Options/concurrency``), extends the
/// leases of those it holds every third of the lease, and records the outcome with the claim's fencing
/// token. An event this instance receives while the worker has room, and nothing older is due, is stored
/// already leased to it (``receive(_:)``) and starts without a claim; otherwise it is stored pending and
/// claimed in order, here or on any instance. Several workers on one database never run an event at the same
/// time; an event whose worker died mid-handler is run again by another once the lease expired.
///
/// A failed event is retried after an exponential backoff with jitter (`baseDelay × 2^(attempt−1)`, ±20 %, at
/// most `maximumDelay`), by default for at least 3 days; after `maximumAttempts` runs it is dead until someone
/// replays it. As a `Service`, it
/// stops with the application; an event interrupted by a shutdown or a crash simply runs again (handlers are
/// idempotent, which the event's idempotency key makes easy).
public final class InboxWorker: Service, Sendable {
    /// How retries are spaced.
    public struct RetryPolicy: Sendable {
        /// Runs before an event is dead.
        public var maximumAttempts: Int
        /// The delay before the first retry.
        public var baseDelay: TimeInterval
        /// The longest delay.
        public var maximumDelay: TimeInterval

        /// The factor every delay is multiplied by, drawn at random per retry.
        public static let jitter: ClosedRange<Double> = 0.8...1.2
        /// The most runs ``init(retryingFor:baseDelay:maximumDelay:)`` gives (with no delay, a window never fills).
        public static let mostAttempts = 10_000

        /// Retryable for at least 3 days, Stripe's own retry window (Stripe had its 2xx and will not send the
        /// event again): retries 2 s apart, doubling, then hourly; 101 runs, over 3.0 to 4.5 days with jitter.
        public static let `default` = RetryPolicy(retryingFor: 3 * 86_400, baseDelay: 2, maximumDelay: 3600)

        /// Creates a policy.
        public init(maximumAttempts: Int, baseDelay: TimeInterval, maximumDelay: TimeInterval) {
            self.maximumAttempts = maximumAttempts
            self.baseDelay = baseDelay
            self.maximumDelay = maximumDelay
        }

        /// A policy whose failing event stays retryable for at least `window` seconds, even when every delay
        /// draws the shortest jitter: as many runs as that takes (at most ``mostAttempts``).
        public init(retryingFor window: TimeInterval, baseDelay: TimeInterval, maximumDelay: TimeInterval) {
            self.init(maximumAttempts: 1, baseDelay: baseDelay, maximumDelay: maximumDelay)
            var shortest: TimeInterval = 0
            while shortest < window, maximumAttempts < Self.mostAttempts {
                shortest += Self.jitter.lowerBound * nominalDelay(afterAttempts: maximumAttempts)
                maximumAttempts += 1
            }
        }

        /// The shortest time from an event's first failure to its last run, when every delay draws the
        /// shortest jitter: how long a failing dependency may stay down before an event is dead.
        public var shortestRetryWindow: TimeInterval {
            (1..<max(1, maximumAttempts)).reduce(0) { $0 + Self.jitter.lowerBound * nominalDelay(afterAttempts: $1) }
        }

        /// The delay before the run after `attempts` runs, with jitter.
        public func delay(afterAttempts attempts: Int) -> TimeInterval {
            nominalDelay(afterAttempts: attempts) * Double.random(in: Self.jitter)
        }

        /// The delay before the run after `attempts` runs, before jitter: `baseDelay × 2^(attempts−1)`, at most
        /// `maximumDelay`.
        public func nominalDelay(afterAttempts attempts: Int) -> TimeInterval {
            // Past 2^62 the exponential only overflows; the cap has long been reached.
            let exponential = baseDelay * pow(2, Double(min(62, max(0, attempts - 1))))
            return min(maximumDelay, exponential)
        }
    }

    /// How the worker claims and runs events.
    public struct Options: Sendable {
        /// How long a claim holds an event before another worker may take it.
        public var lease: Duration
        /// The most events one claim takes: four per handler slot by default, so that an instance does not hold
        /// events it will not start soon while another instance is idle.
        public var batchSize: Int
        /// The most events whose handlers run at once.
        public var concurrency: Int
        /// The name this worker claims under, unique per instance (host, process and a random part by default).
        public var owner: String
        /// How often the worker looks for retries and expired leases when nothing wakes it.
        public var pollInterval: Duration
        /// The longest one run of an event's handlers may take (5 minutes by default): past it the run fails,
        /// and is retried, and its slot frees even if the handler ignores cancellation.
        public var handlerTimeout: Duration
        /// How long the tenant block a claim read (``StripeApps/ClaimedEvent/tenantBlockedWhenClaimed``) decides
        /// whether its event runs (1 s by default): an event that starts later reads its installation again. So a
        /// block stops every event of the tenant that starts more than this after the block was committed, and a
        /// claim's events cost no read of their own.
        public var blockReadingLifetime: Duration

        /// Creates options.
        public init(
            lease: Duration = .seconds(60),
            batchSize: Int? = nil,
            concurrency: Int = 16,
            owner: String = InboxWorker.defaultOwner(),
            pollInterval: Duration = .seconds(1),
            handlerTimeout: Duration = .seconds(300),
            blockReadingLifetime: Duration = .seconds(1)
        ) {
            self.lease = lease
            self.batchSize = batchSize ?? 4 * concurrency
            self.concurrency = concurrency
            self.owner = owner
            self.pollInterval = pollInterval
            self.handlerTimeout = handlerTimeout
            self.blockReadingLifetime = blockReadingLifetime
        }
    }

    private let inbox: any EventInbox
    private let handlers: EventHandlers
    /// Where a tenant's block is read before its event's handlers run.
    private let installations: (any InstallationStore)?
    private let metrics = MetricsHandle()
    private let policy: RetryPolicy
    private let options: Options
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation
    private let isStarted = Atomic(false)
    private let state = Mutex(State())
    /// The time limits of the handler runs in progress, checked by one loop rather than a timer per run.
    private let deadlines: HandlerDeadlines

    /// The claims this worker holds, and whether the inbox may hold due events it has not claimed.
    private struct State {
        /// Claimed or handed over, not started yet, oldest first.
        var waiting: [ClaimedEvent] = []
        /// When each waiting event was claimed: how old its claim's reading of the tenant block is.
        var claimedAt: [String: ContinuousClock.Instant] = [:]
        var running: [String: ClaimedEvent] = [:]
        /// The tenants whose events' handlers are running: one event of a tenant at a time, in order.
        var busyTenants: Set<TenantKey> = []
        /// Handlers done, outcome being recorded: still held, no longer taking a slot.
        var settling: [String: ClaimedEvent] = [:]
        /// Deliveries being stored claimed for this worker.
        var reserved = 0
        /// Set by a notification, a tick or a full claim; cleared by a claim that found fewer than it asked for.
        var mayHaveDue = true
        /// A claim being made.
        var isClaiming = false
        var isStopping = false

        /// Events held and not finished running: what the batch size bounds.
        var ahead: Int { waiting.count + running.count + reserved }
        /// Everything holding a lease, or about to.
        var held: Int { ahead + settling.count + (isClaiming ? 1 : 0) }
    }

    /// Creates a worker; it claims nothing until ``start()`` (the composition root calls it once storage is migrated).
    ///
    /// - Parameter installations: When given, the event of a blocked tenant (``StripeApps/TenantBlock``) does not
    ///   run and becomes ``StripeApps/InboxEvent/Status/blocked``: the claim's reading of the block decides while it
    ///   is recent (``Options/blockReadingLifetime``), and these are read for an event that starts later or whose
    ///   claim did not say. ``inboxWorker(configuration:storage:hooks:logger:)`` passes the storage's.
    public init(
        inbox: some EventInbox,
        handlers: EventHandlers,
        installations: (any InstallationStore)? = nil,
        policy: RetryPolicy = .default,
        options: Options = Options(),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "stripe-apps-backend.inbox")
    ) {
        self.inbox = inbox
        self.handlers = handlers
        self.installations = installations
        self.policy = policy
        self.options = options
        self.now = now
        var logger = logger
        logger[metadataKey: "inbox.owner"] = .string(options.owner)
        self.logger = logger
        (wakeUps, wakeUp) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        deadlines = HandlerDeadlines(resolution: min(.seconds(1), options.handlerTimeout / 4))
    }

    /// `HOST:PID:RANDOM`: unique per process, and says where a running event's lease is held.
    public static func defaultOwner() -> String {
        let random = String(UInt32.random(in: .min ... .max), radix: 36)
        return "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(random)"
    }

    /// Records its handler runs in `metrics` from now on (`stripe_apps_event_handler_runs_total` and
    /// `stripe_apps_event_handler_duration_seconds`); the application calls it with its own.
    public func recordMetrics(into metrics: AppMetrics) {
        self.metrics.set(metrics)
    }

    /// Lets the running worker claim events (storage is ready), and looks at the inbox at once.
    public func start() {
        isStarted.store(true, ordering: .releasing)
        notify()
    }

    /// Asks the worker to look at the inbox now (an event was stored pending, here or on another instance).
    public func notify() {
        state.withLock { $0.mayHaveDue = true }
        wakeUp.yield()
    }

    /// Stores a verified delivery and says what that did. When the worker has room and nothing older is due, the
    /// event is stored leased to this worker and starts at once; otherwise it is stored pending for a claim. An
    /// event of a type no handler is registered for is stored succeeded with no attempt: nothing would run. The
    /// inbox holds an event of a blocked tenant (``InboxArrival/held``) whichever way it is stored.
    public func receive(_ event: InboxEvent) async throws -> InboxArrival {
        guard handlers.handles(event.type) else {
            // Nothing would run (Stripe sends every type the app subscribes to): stored succeeded, with no
            // attempt, so that the event costs no claim and no settlement. A replay still runs what is
            // registered for its type by then.
            var done = event
            done.status = .succeeded
            return try await inbox.enqueue(done)
        }
        let reserved = state.withLock { state in
            guard isStarted.load(ordering: .acquiring), !state.isStopping, !state.mayHaveDue,
                state.ahead < options.batchSize
            else { return false }
            state.reserved += 1
            return true
        }
        guard reserved else {
            let arrival = try await inbox.enqueue(event)
            if arrival == .stored { notify() }
            return arrival
        }
        let arrival: InboxArrival
        let claimedAt = ContinuousClock.now
        do {
            arrival = try await inbox.enqueue(event, claimingFor: options.owner, now: now(), lease: options.lease)
        } catch {
            state.withLock { $0.reserved -= 1 }
            throw error
        }
        let claim = arrival.claim
        state.withLock { state in
            state.reserved -= 1
            if let claim {
                state.waiting.append(claim)
                state.claimedAt[claim.id] = claimedAt
            }
        }
        if claim != nil { wakeUp.yield() }
        return arrival
    }

    /// Runs until the application shuts down: starts held events while there are free slots, claims due ones
    /// when notified, and every poll interval for retries and expired leases. On shutdown it claims and accepts
    /// nothing more, runs the events it holds, and returns once they finished.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { background in
                background.addTask { [options] in
                    // Retries and expired leases become due with time, not with a delivery: a tick finds them.
                    while (try? await Task.sleep(for: options.pollInterval)) != nil { self.notify() }
                }
                background.addTask {
                    // Claims whose outcome is being recorded are left out: their lease ends with that write.
                    await self.extendLeases { self.state.withLock { $0.waiting + Array($0.running.values) } }
                }
                await withDiscardingTaskGroup { handlers in
                    for await _ in wakeUps {
                        if Task.isCancelled { break }
                        if isStarted.load(ordering: .acquiring) { fill(&handlers) }
                        if state.withLock({ $0.isStopping && $0.held == 0 }) { break }
                    }
                }
                background.cancelAll()
            }
        } onGracefulShutdown: {
            self.state.withLock { $0.isStopping = true }
            self.wakeUp.yield()
        }
    }

    /// What the run loop does next.
    private enum Step {
        case start(ClaimedEvent, claimedAt: ContinuousClock.Instant?)
        case claim(limit: Int)
        case wait
    }

    /// Starts held events up to the concurrency, and claims more (in a task of its own, so that starts go on
    /// meanwhile) while fewer than a slot's worth wait and the inbox may have due ones.
    private func fill(_ handlers: inout DiscardingTaskGroup) {
        while true {
            let step = state.withLock { state -> Step in
                // The oldest held event whose tenant has nothing running: tenants run side by side, the events of
                // one tenant one after the other, in the order they were claimed.
                if state.running.count < options.concurrency,
                    let index = state.waiting.firstIndex(where: { !state.busyTenants.contains(TenantKey($0)) })
                {
                    let claim = state.waiting.remove(at: index)
                    state.running[claim.id] = claim
                    state.busyTenants.insert(TenantKey(claim))
                    return .start(claim, claimedAt: state.claimedAt.removeValue(forKey: claim.id))
                }
                let limit = options.batchSize - state.ahead
                let startable = state.waiting.count { !state.busyTenants.contains(TenantKey($0)) }
                guard state.mayHaveDue, !state.isStopping, !state.isClaiming, limit > 0,
                    startable < options.concurrency
                else { return .wait }
                state.mayHaveDue = false
                state.isClaiming = true
                return .claim(limit: limit)
            }
            switch step {
            case .wait:
                return
            case .start(let claim, let claimedAt):
                handlers.addTask { await self.runHeld(claim, claimedAt: claimedAt) }
            case .claim(let limit):
                handlers.addTask { await self.claimMore(limit: limit) }
            }
        }
    }

    /// Runs one held event in its slot; the slot frees when the handlers end, the lease once the outcome is in.
    private func runHeld(_ claim: ClaimedEvent, claimedAt: ContinuousClock.Instant?) async {
        do {
            try await process(claim, claimedAt: claimedAt) {
                state.withLock { state in
                    if let claim = state.running.removeValue(forKey: claim.id) { state.settling[claim.id] = claim }
                    state.busyTenants.remove(TenantKey(claim))
                }
                wakeUp.yield()
            }
        } catch {
            logOutcomeNotRecorded(claim, error)
        }
        state.withLock { state in
            if state.running.removeValue(forKey: claim.id) != nil { state.busyTenants.remove(TenantKey(claim)) }
            state.settling[claim.id] = nil
        }
        wakeUp.yield()
    }

    private func logOutcomeNotRecorded(_ claim: ClaimedEvent, _ error: any Error) {
        logger.error(
            "the outcome of an event could not be recorded; it runs again once its lease expired",
            metadata: ["stripe.event": .string(claim.id), "error.type": "\(type(of: error))"])
    }

    private func claimMore(limit: Int) async {
        do {
            // Taken before the claim's statement reads the block, so that the reading's age is never understated.
            let claimedAt = ContinuousClock.now
            let claims = try await inbox.claim(now: now(), limit: limit, lease: options.lease, owner: options.owner)
            state.withLock { state in
                state.waiting += claims
                for claim in claims { state.claimedAt[claim.id] = claimedAt }
                if claims.count == limit { state.mayHaveDue = true }
                state.isClaiming = false
            }
        } catch {
            // The next notification or tick tries again.
            state.withLock { $0.isClaiming = false }
            logger.error("inbox unavailable", metadata: ["error.type": "\(type(of: error))"])
        }
        wakeUp.yield()
    }

    /// Claims one batch of due events and runs their handlers, as the running worker would: tenants side by side
    /// (up to the concurrency), the events of one tenant one after the other; returns how many it claimed.
    ///
    /// For tools and tests that drive the inbox by hand; a running worker (``run()``) needs no help. An event
    /// whose outcome cannot be recorded is logged and left to its lease; it does not stop the others.
    @discardableResult
    public func processDueEvents(limit: Int? = nil) async throws -> Int {
        let claimedAt = ContinuousClock.now
        let claims = try await inbox.claim(
            now: now(), limit: limit ?? options.batchSize, lease: options.lease, owner: options.owner)
        guard !claims.isEmpty else { return 0 }
        let lanes = Dictionary(grouping: claims, by: TenantKey.init).values.sorted {
            ($0[0].event.receivedAt, $0[0].id) < ($1[0].event.receivedAt, $1[0].id)
        }
        let running = RunningClaims(claims)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.extendLeases { running.current } }
            await withTaskGroup(of: Void.self) { runs in
                for (index, lane) in lanes.enumerated() {
                    if index >= options.concurrency { await runs.next() }
                    runs.addTask {
                        for claim in lane {
                            do {
                                try await self.process(claim, claimedAt: claimedAt)
                            } catch {
                                self.logOutcomeNotRecorded(claim, error)
                            }
                            running.finished(claim)
                        }
                    }
                }
            }
            group.cancelAll()
        }
        return claims.count
    }

    /// Every third of the lease, extends the leases of the claims still held, until cancelled.
    private func extendLeases(of held: @Sendable () -> [ClaimedEvent]) async {
        let interval = options.lease / 3
        while (try? await Task.sleep(for: interval)) != nil {
            let claims = held()
            guard !claims.isEmpty else { continue }
            do {
                let extended = try await inbox.heartbeat(claims, now: now(), lease: options.lease)
                // A claim that finished meanwhile is not lost; one still held and not extended is.
                let stillHeld = Set(held().map(\.id))
                for lost in claims where !extended.contains(lost.id) && stillHeld.contains(lost.id) {
                    logger.warning(
                        "lease lost while the handlers run; another worker may run the event",
                        metadata: ["stripe.event": .string(lost.id)])
                }
            } catch {
                logger.warning("lease heartbeat failed", metadata: ["error.type": "\(type(of: error))"])
            }
        }
    }

    /// What a run of an event's handlers comes to.
    private enum Outcome {
        case completed
        /// Not run: the event's tenant is blocked.
        case blocked
        /// The error to store, when to retry (`nil`: dead), and the error's type for the log, when a handler threw.
        case failed(String, retryAt: Date?, errorType: String? = nil)
    }

    /// Runs the handlers of `claim`, calls `handlersDone`, then records the outcome with the claim's token.
    ///
    /// The run loop frees the handler slot in `handlersDone`, so that the next event starts while this outcome
    /// commits: the commit's round trip and disk sync do not count against the concurrency.
    private func process(
        _ claim: ClaimedEvent, claimedAt: ContinuousClock.Instant?, handlersDone: () -> Void = {}
    ) async throws {
        var logger = self.logger
        logger[metadataKey: "stripe.event"] = .string(claim.id)
        logger[metadataKey: "stripe.event.type"] = .string(claim.event.type)
        let outcome = try await run(claim, claimedAt: claimedAt, logger: &logger)
        handlersDone()
        let held: Bool
        switch outcome {
        case .completed:
            held = try await inbox.complete(claim)
        case .blocked:
            held = try await inbox.setAsideBlocked(claim)
            if held { logger.info("event of a blocked tenant set aside; it did not run") }
        case .failed(let error, let retryAt, let errorType):
            held = try await inbox.fail(claim, error: error, retryAt: retryAt)
            // Logged once recorded, so that the line means what `events list` shows.
            if let errorType, held {
                logger.warning(
                    retryAt == nil
                        ? "event handler failed; no retries left (dead)" : "event handler failed; will retry",
                    metadata: ["inbox.attempts": "\(claim.event.attempts)", "error.type": .string(errorType)])
            }
        }
        if !held {
            logger.warning("the lease had expired; the outcome was not recorded (another worker claimed the event)")
        }
    }

    private func run(_ claim: ClaimedEvent, claimedAt: ContinuousClock.Instant?, logger: inout Logger) async throws
        -> Outcome
    {
        let stored = claim.event
        guard stored.attempts <= policy.maximumAttempts else {
            // Only expired leases get here: the worker running it stopped (a crash, a kill) that many times.
            logger.error("event interrupted too often; dead", metadata: ["inbox.attempts": "\(stored.attempts)"])
            return .failed(
                "Interrupted \(stored.attempts - 1) times: the worker stopped while running it.", retryAt: nil)
        }
        let eventHandlers = handlers.handlers(for: stored.type)
        // Nothing to run (Stripe sends every event type the app subscribes to): done, without decoding it.
        guard !eventHandlers.isEmpty else { return .completed }
        // Nothing runs for a blocked tenant: the webhook stored its events blocked already, but one may have been
        // stored before the block, or by the install callback or the missed-event recovery. The claim read the
        // block in the statement that made it; only an event that waited since reads it again.
        if let installations, let account = stored.accountID {
            let tenant = Tenant(accountID: account, mode: stored.isLiveMode ? .live : .test)
            do {
                if try await installations.isBlocked(
                    tenant, claimReading: claim.tenantBlockedWhenClaimed, claimedAt: claimedAt,
                    lifetime: options.blockReadingLifetime)
                {
                    return .blocked
                }
            } catch {
                let retryAt =
                    stored.attempts >= policy.maximumAttempts
                    ? nil : now().addingTimeInterval(policy.delay(afterAttempts: stored.attempts))
                return .failed(
                    "Whether the tenant is blocked could not be read: \(type(of: error)).", retryAt: retryAt,
                    errorType: "\(type(of: error))")
            }
        }
        let event: AppEvent
        do {
            event = try AppEvent(json: Array(stored.payload.utf8))
        } catch {
            // Verified and decoded once already; if it cannot be read now, retrying will not help.
            return .failed("The stored event cannot be decoded.", retryAt: nil)
        }
        if let tenant = event.tenant { logger[metadataKey: "stripe.account"] = .string(tenant.description) }
        let context = EventContext(event: event, tenant: event.tenant, logger: logger)
        let started = ContinuousClock.now
        do {
            try await run(within: options.handlerTimeout) {
                // One span per run (a no-op unless traces are configured); the handlers' own calls nest in it.
                try await withSpan("stripe_apps.event.handle", ofKind: .consumer) { span in
                    span.attributes["stripe_apps.event.type"] = stored.type
                    span.attributes["stripe_apps.event.attempt"] = stored.attempts
                    DeliveryTrace.link(span, to: stored.traceParent)
                    for handler in eventHandlers { try await handler(context) }
                }
            }
            metrics.current?.recordHandlerRun(eventType: stored.type, result: "succeeded", duration: .now - started)
        } catch {
            if !Task.isCancelled {
                metrics.current?.recordHandlerRun(
                    eventType: stored.type, result: error is HandlerTimedOut ? "timed_out" : "failed",
                    duration: .now - started)
            }
            // Our own cancellation (the application is stopping at once): nothing is recorded, the lease expires
            // and the event runs again. Any other error, a handler's own CancellationError and a time-out
            // included, is a failed attempt with its backoff: never a hot loop.
            if Task.isCancelled { throw error }
            let retryAt =
                stored.attempts >= policy.maximumAttempts
                ? nil : now().addingTimeInterval(policy.delay(afterAttempts: stored.attempts))
            // Stored as last_error, which `events list` shows: no key or signature an error may carry.
            return .failed(
                LogRedaction.redact(String(describing: error)), retryAt: retryAt, errorType: "\(type(of: error))")
        }
        logger.info("event processed", metadata: ["inbox.attempts": "\(stored.attempts)"])
        return .completed
    }
}

/// The claims of one batch whose handlers have not finished, for the heartbeat.
private final class RunningClaims: Sendable {
    private let claims: Mutex<[String: ClaimedEvent]>

    init(_ claims: [ClaimedEvent]) {
        self.claims = Mutex(Dictionary(claims.map { ($0.id, $0) }, uniquingKeysWith: { $1 }))
    }

    var current: [ClaimedEvent] { claims.withLock { Array($0.values) } }

    func finished(_ claim: ClaimedEvent) {
        claims.withLock { _ = $0.removeValue(forKey: claim.id) }
    }
}

extension InboxWorker {
    /// A run of an event's handlers that took longer than ``Options/handlerTimeout``.
    public struct HandlerTimedOut: Error, CustomStringConvertible {
        /// The limit that passed.
        public let limit: Duration

        public var description: String { "The event handlers did not finish within \(limit); the run was cancelled." }
    }

    /// Runs `body` in a task of its own and returns when it ends, or throws ``HandlerTimedOut`` once `limit` passed
    /// (to within a quarter of it, at most a second), cancelling it. The caller does not wait for a body that
    /// ignores cancellation: its slot frees at the limit. Cancelling the caller cancels the body.
    func run(within limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let outcome = SingleOutcome()
        let work = Task {
            do {
                try await body()
                outcome.resolve(.success(()))
            } catch {
                outcome.resolve(.failure(error))
            }
        }
        let deadline = deadlines.add(at: .now + limit) {
            if outcome.resolve(.failure(HandlerTimedOut(limit: limit))) { work.cancel() }
        }
        defer { deadlines.remove(deadline) }
        try await withTaskCancellationHandler {
            try await outcome.value
        } onCancel: {
            work.cancel()
        }
    }
}

/// Deadlines of handler runs in progress (the inbox's and the job worker's). One task checks them every
/// `resolution` while there are any, and ends when there are none: a timer task per run cost 10 to 25 % of the
/// worker's throughput in an A/B run.
final class HandlerDeadlines: Sendable {
    private struct Entry {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var isChecking = false
    }

    private let resolution: Duration
    private let state = Mutex(State())

    init(resolution: Duration) {
        self.resolution = max(.milliseconds(5), resolution)
    }

    /// Calls `expire` once `deadline` passed, unless the entry was removed first.
    func add(at deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, startChecking) = state.withLock { state -> (UInt64, Bool) in
            state.nextID += 1
            state.entries[state.nextID] = Entry(deadline: deadline, expire: expire)
            defer { state.isChecking = true }
            return (state.nextID, !state.isChecking)
        }
        if startChecking { Task { await self.check() } }
        return id
    }

    func remove(_ id: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    private func check() async {
        while true {
            try? await Task.sleep(for: resolution)
            let now = ContinuousClock.now
            let expired = state.withLock { state -> [Entry]? in
                guard !state.entries.isEmpty else {
                    state.isChecking = false
                    return nil
                }
                let due = state.entries.filter { $0.value.deadline <= now }
                for id in due.keys { state.entries[id] = nil }
                return Array(due.values)
            }
            guard let expired else { return }
            for entry in expired { entry.expire() }
        }
    }
}

/// The first of several results, awaited once.
private final class SingleOutcome: Sendable {
    private struct State {
        var result: Result<Void, any Error>?
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private let state = Mutex(State())

    /// Sets the result unless one was set; returns whether this call set it.
    @discardableResult
    func resolve(_ result: Result<Void, any Error>) -> Bool {
        let (isFirst, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, any Error>?) in
            guard state.result == nil else { return (false, nil) }
            state.result = result
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(with: result)
        return isFirst
    }

    var value: Void {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let result = state.withLock { state -> Result<Void, any Error>? in
                    if state.result == nil { state.waiter = continuation }
                    return state.result
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }
}

/// The tenant an event belongs to, for ordering; events that name no account (none of a Connect endpoint's) are
/// ordered with nothing: each is its own lane.
struct TenantKey: Hashable, Sendable {
    let accountID: String
    let isLiveMode: Bool
    /// The event's id when it names no account.
    let lane: String?

    init(_ claim: ClaimedEvent) {
        accountID = claim.event.accountID ?? ""
        isLiveMode = claim.event.isLiveMode
        lane = claim.event.accountID == nil ? claim.id : nil
    }
}
