import Synchronization

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The job queue of an ``InMemoryStorage``, under the storage's one lock (so an uninstall cancels jobs in the same
/// step that deactivates the installation). A type of its own, as the inbox's methods have the same names.
public struct InMemoryJobQueue: JobQueue {
    let storage: InMemoryStorage

    public func push(_ job: NewJob, now: Date) async throws -> JobRecord? {
        storage.state.withLock { state in
            if let key = job.slotKey, state.jobs.values.contains(where: { $0.slotKey == key }) { return nil }
            let record = JobRecord(job, queuedAt: now)
            state.jobs[record.id] = record
            state.jobTokens[record.id] = 0
            return record
        }
    }

    public func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedJob] {
        storage.state.withLock { state in
            state.cancelAbandonedStops(at: now)
            let due = state.jobs.values.filter { $0.isClaimable(at: now) }.sorted(by: JobRecord.claimOrder)
            return due.prefix(max(0, limit)).map { job in
                var claimed = job
                claimed.status = .running
                claimed.attempts += 1
                claimed.leaseOwner = owner
                claimed.leaseExpiresAt = now.addingTimeInterval(lease.timeInterval)
                let token = (state.jobTokens[job.id] ?? 0) + 1
                state.jobTokens[job.id] = token
                state.jobs[job.id] = claimed
                let blocked = job.tenant.map { state.installations[$0]?.isBlocked == true } ?? false
                return ClaimedJob(job: claimed, token: token, owner: owner, tenantBlockedWhenClaimed: blocked)
            }
        }
    }

    public func complete(_ claim: ClaimedJob, now: Date) async throws -> Bool {
        settle(claim) { job in
            job.status = .succeeded
            job.finishedAt = now
        }
    }

    public func fail(_ claim: ClaimedJob, error: String, retryAt: Date?, now: Date) async throws -> Bool {
        settle(claim) { job in
            job.status = retryAt == nil ? .dead : .failed
            job.lastError = InboxEvent.storedError(error)
            if let retryAt { job.runAt = retryAt } else { job.finishedAt = now }
        }
    }

    public func stopped(_ claim: ClaimedJob, now: Date) async throws -> Bool {
        settle(claim) { job in
            job.status = .cancelled
            job.finishedAt = now
        }
    }

    public func heartbeat(_ claims: [ClaimedJob], now: Date, lease: Duration) async throws -> [String: Bool] {
        storage.state.withLock { state in
            var held: [String: Bool] = [:]
            for claim in claims where state.holds(claim) {
                state.jobs[claim.id]?.leaseExpiresAt = now.addingTimeInterval(lease.timeInterval)
                held[claim.id] = state.jobs[claim.id]?.cancelRequested ?? false
            }
            return held
        }
    }

    public func recordProgress(_ claim: ClaimedJob, fraction: Double?, message: String?) async throws -> Bool {
        storage.state.withLock { state in
            guard state.holds(claim) else { return false }
            state.jobs[claim.id]?.progress = JobRecord.storedProgress(fraction)
            state.jobs[claim.id]?.progressMessage = JobRecord.storedProgressMessage(message)
            return true
        }
    }

    public func cancel(id: String, now: Date) async throws -> JobRecord? {
        storage.state.withLock { state in
            guard var job = state.jobs[id] else { return nil }
            switch job.status {
            case .pending, .failed:
                job.status = .cancelled
                job.finishedAt = now
            case .running:
                job.cancelRequested = true
            default:
                break
            }
            state.jobs[id] = job
            return job
        }
    }

    public func replay(id: String, now: Date) async throws -> Bool {
        storage.state.withLock { state in
            guard var job = state.jobs[id], job.status == .dead || job.status == .cancelled else { return false }
            job.status = .pending
            job.attempts = 0
            job.runAt = now
            job.finishedAt = nil
            job.cancelRequested = false
            job.leaseOwner = nil
            job.leaseExpiresAt = nil
            state.jobs[id] = job
            state.jobTokens[id, default: 0] += 1
            return true
        }
    }

    public func job(id: String) async throws -> JobRecord? {
        storage.state.withLock { $0.jobs[id] }
    }

    public func jobs(status: JobRecord.Status?, limit: Int) async throws -> [JobRecord] {
        let all = storage.state.withLock { Array($0.jobs.values) }
        return Array(
            all.filter { status == nil || $0.status == status }.sorted { ($0.queuedAt, $0.id) > ($1.queuedAt, $1.id) }
                .prefix(max(0, limit)))
    }

    public func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        storage.state.withLock { state in
            let done = state.jobs.values.filter { job in
                [.succeeded, .cancelled, .dead].contains(job.status) && (job.finishedAt.map { $0 < cutoff } ?? false)
            }.sorted { ($0.finishedAt ?? .distantPast, $0.id) < ($1.finishedAt ?? .distantPast, $1.id) }
            for job in done.prefix(max(0, limit)) {
                state.jobs[job.id] = nil
                state.jobTokens[job.id] = nil
            }
            return min(done.count, max(0, limit))
        }
    }

    /// Applies `change` to the claimed job if the claim still holds its lease; the lease ends.
    private func settle(_ claim: ClaimedJob, _ change: (inout JobRecord) -> Void) -> Bool {
        storage.state.withLock { state in
            guard state.holds(claim), var job = state.jobs[claim.id] else { return false }
            change(&job)
            job.leaseOwner = nil
            job.leaseExpiresAt = nil
            job.cancelRequested = false
            state.jobs[claim.id] = job
            return true
        }
    }
}

extension InMemoryJobQueue: ScheduleStore {
    public func advance(
        schedule name: String,
        now: Date,
        withInstallations: Bool,
        plan: @Sendable (ScheduleCursor) -> SchedulePlan
    ) async throws -> (plan: SchedulePlan, pushed: Int)? {
        storage.state.withLock { state in
            let tenants =
                withInstallations
                ? state.installations.values.filter { $0.status == .active && !$0.isBlocked }.map(\.tenant).sorted {
                    ($0.accountID, $0.mode) < ($1.accountID, $1.mode)
                } : []
            let stored = state.schedules[name]
            let decided = plan(ScheduleCursor(lastSlot: stored?.handledThrough, now: now, tenants: tenants))
            var pushed = 0
            var keys = Set(state.jobs.values.compactMap(\.slotKey))
            for job in decided.jobs {
                if let key = job.slotKey {
                    guard keys.insert(key).inserted else { continue }
                }
                let record = JobRecord(job, queuedAt: now)
                state.jobs[record.id] = record
                state.jobTokens[record.id] = 0
                pushed += 1
            }
            state.schedules[name] = ScheduleRecord(
                name: name, summary: decided.summary ?? stored?.summary, handledThrough: decided.resumeAfter,
                nextSlot: decided.nextSlot, updatedAt: now)
            return (decided, pushed)
        }
    }

    public func schedules() async throws -> [ScheduleRecord] {
        storage.state.withLock { $0.schedules.values.sorted { $0.name < $1.name } }
    }

    public func latestRuns(of schedule: String) async throws -> [JobRecord] {
        let prefix = schedule + ":"
        let jobs = storage.state.withLock { $0.jobs.values.filter { $0.slotKey?.hasPrefix(prefix) ?? false } }
        let newest = Dictionary(grouping: jobs) { $0.tenant }.values.compactMap {
            $0.max { ($0.slotKey ?? "") < ($1.slotKey ?? "") }
        }
        return newest.sorted { ($0.slotKey ?? "") < ($1.slotKey ?? "") }
    }
}

extension InMemoryStorage.State {
    /// Whether `claim` is the job's newest claim and the job still runs.
    func holds(_ claim: ClaimedJob) -> Bool {
        jobTokens[claim.id] == claim.token && jobs[claim.id]?.status == .running
    }

    /// Running jobs asked to stop whose worker's lease ran out: nobody will report them, so they are cancelled.
    mutating func cancelAbandonedStops(at now: Date) {
        for (id, job) in jobs
        where job.status == .running && job.cancelRequested && (job.leaseExpiresAt.map { $0 <= now } ?? true) {
            jobs[id]?.status = .cancelled
            jobs[id]?.finishedAt = now
            jobs[id]?.leaseOwner = nil
            jobs[id]?.leaseExpiresAt = nil
        }
    }

    /// The uninstall of `tenant`: its pending and failed jobs are cancelled, its running ones asked to stop.
    mutating func cancelJobs(of tenant: Tenant, at now: Date) {
        for (id, job) in jobs where job.tenant == tenant {
            switch job.status {
            case .pending, .failed:
                jobs[id]?.status = .cancelled
                jobs[id]?.finishedAt = now
            case .running:
                jobs[id]?.cancelRequested = true
            default:
                break
            }
        }
    }
}

extension JobRecord {
    /// The order every backend claims in: higher priority first, then the earliest `runAt`, then the id.
    package static func claimOrder(_ a: JobRecord, _ b: JobRecord) -> Bool {
        (-a.priority, a.runAt, a.id) < (-b.priority, b.runAt, b.id)
    }
}
