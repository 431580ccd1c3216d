import Foundation
import StripeApps
import Testing

/// The job queue, on every backend: one contract, so a worker behaves the same on memory, SQLite and PostgreSQL.
@Suite struct JobQueueContractTests {
    /// Real time: PostgreSQL takes lease times from its own clock, so leases are checked around the real now.
    static var now: Date { Date() }
    static let long = Duration.seconds(600)
    static let tenant = Tenant(accountID: "acct_jobs", mode: .test)

    @Test(arguments: Backend.enabled)
    func aJobIsClaimedOnceSettledOnceAndKeepsWhatItWasPushedWith(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Self.now
            let pushed = try #require(
                try await jobs.push(
                    NewJob(name: "sync", tenant: Self.tenant, parameters: #"{"page":1}"#, maxAttempts: 3), now: now))
            #expect(pushed.status == .pending && pushed.attempts == 0 && pushed.id.hasPrefix("job_"))
            let claims = try await jobs.claim(now: now, limit: 10, lease: Self.long, owner: "w1")
            #expect(claims.map(\.id) == [pushed.id])
            let claim = try #require(claims.first)
            #expect(claim.job.status == .running && claim.job.attempts == 1 && claim.job.leaseOwner == "w1")
            #expect(
                claim.job.tenant == Self.tenant && claim.job.parameters == #"{"page":1}"# && claim.job.maxAttempts == 3)
            #expect(try await jobs.claim(now: now, limit: 10, lease: Self.long, owner: "w2").isEmpty, "leased")
            #expect(try await jobs.recordProgress(claim, fraction: 1.5, message: "halfway"))
            #expect(try await jobs.job(id: pushed.id)?.progress == 1, "kept within 0...1")
            #expect(try await jobs.complete(claim, now: now))
            #expect(try await !jobs.complete(claim, now: now), "settled once")
            let done = try #require(try await jobs.job(id: pushed.id))
            #expect(done.status == .succeeded && done.finishedAt != nil && done.leaseOwner == nil)
            #expect(try await jobs.jobs(status: .succeeded, limit: 10).map(\.id) == [pushed.id])
            #expect(try await jobs.jobs(status: .pending, limit: 10).isEmpty)
        }
    }

    /// Delayed jobs wait for their time; due jobs go highest priority first, then oldest `runAt`.
    @Test(arguments: Backend.enabled)
    func dueJobsAreClaimedByPriorityThenTime(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Self.now
            let later = try #require(
                try await jobs.push(NewJob(name: "later", runAt: now.addingTimeInterval(3600)), now: now))
            let low = try #require(
                try await jobs.push(NewJob(name: "low", runAt: now.addingTimeInterval(-20)), now: now))
            let high = try #require(try await jobs.push(NewJob(name: "high", priority: 5, runAt: now), now: now))
            let older = try #require(
                try await jobs.push(NewJob(name: "older", runAt: now.addingTimeInterval(-60)), now: now))
            let claimed = try await jobs.claim(now: now, limit: 10, lease: Self.long, owner: "w")
            #expect(claimed.map(\.id) == [high.id, older.id, low.id])
            for claim in claimed { #expect(try await jobs.complete(claim, now: now)) }
            let atLast = try await jobs.claim(
                now: now.addingTimeInterval(3601), limit: 10, lease: Self.long, owner: "w")
            #expect(atLast.map(\.id) == [later.id])
        }
    }

    /// A failed run is retried at its time, then dead; a replay starts it over.
    @Test(arguments: Backend.enabled)
    func failuresRetryThenDieAndReplayStartsOver(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Self.now
            let job = try #require(try await jobs.push(NewJob(name: "flaky"), now: now))
            let first = try #require(try await jobs.claim(now: now, limit: 1, lease: Self.long, owner: "w").first)
            #expect(
                try await jobs.fail(
                    first, error: String(repeating: "e", count: 5000), retryAt: now.addingTimeInterval(60), now: now))
            let failed = try #require(try await jobs.job(id: job.id))
            #expect(failed.status == .failed && failed.lastError?.count == InboxEvent.maximumErrorLength)
            #expect(try await jobs.claim(now: now, limit: 1, lease: Self.long, owner: "w").isEmpty, "not yet")
            let second = try #require(
                try await jobs.claim(now: now.addingTimeInterval(61), limit: 1, lease: Self.long, owner: "w").first)
            #expect(second.job.attempts == 2 && second.token > first.token)
            #expect(try await jobs.fail(second, error: "gave up", retryAt: nil, now: now))
            #expect(try await jobs.job(id: job.id)?.status == .dead)
            #expect(
                try await jobs.claim(now: now.addingTimeInterval(86_400), limit: 1, lease: Self.long, owner: "w")
                    .isEmpty)
            #expect(try await jobs.replay(id: job.id, now: now))
            let replayed = try #require(try await jobs.claim(now: now, limit: 1, lease: Self.long, owner: "w").first)
            #expect(replayed.job.attempts == 1)
            #expect(try await !jobs.replay(id: job.id, now: now), "only dead or cancelled jobs are replayed")
            #expect(try await !jobs.replay(id: "job_missing", now: now))
        }
    }

    /// An expired lease returns the job to the queue; the worker that lost it can record nothing.
    @Test(arguments: Backend.enabled)
    func anExpiredLeaseIsClaimedAgainAndFencesTheOldWorker(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            _ = try await jobs.push(NewJob(name: "long"), now: Self.now)
            // A zero lease has expired by the time anyone looks again, on every clock.
            let dead = try #require(try await jobs.claim(now: Self.now, limit: 1, lease: .zero, owner: "dead").first)
            let alive = try #require(
                try await jobs.claim(now: Self.now.addingTimeInterval(1), limit: 1, lease: Self.long, owner: "alive")
                    .first)
            #expect(alive.id == dead.id && alive.token > dead.token && alive.job.attempts == 2)
            #expect(try await jobs.heartbeat([dead], now: Self.now, lease: Self.long).isEmpty)
            #expect(try await !jobs.complete(dead, now: Self.now))
            #expect(try await !jobs.recordProgress(dead, fraction: 0.5, message: nil))
            #expect(try await jobs.heartbeat([alive], now: Self.now, lease: Self.long) == [alive.id: false])
            #expect(try await jobs.job(id: alive.id)?.leaseOwner == "alive")
        }
    }

    /// Cancelling: a pending job at once; a running one is asked to stop (its heartbeat says so) and is cancelled
    /// when its worker reports it stopped, or when its lease runs out with nobody left to report.
    @Test(arguments: Backend.enabled)
    func cancellationStopsPendingAndRunningJobs(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Self.now
            let pending = try #require(
                try await jobs.push(NewJob(name: "a", runAt: now.addingTimeInterval(60)), now: now))
            #expect(try await jobs.cancel(id: pending.id, now: now)?.status == .cancelled)
            let running = try #require(try await jobs.push(NewJob(name: "b"), now: now))
            let claim = try #require(try await jobs.claim(now: now, limit: 1, lease: Self.long, owner: "w").first)
            let asked = try #require(try await jobs.cancel(id: running.id, now: now))
            #expect(asked.status == .running && asked.cancelRequested)
            #expect(try await jobs.heartbeat([claim], now: now, lease: Self.long) == [claim.id: true])
            #expect(try await jobs.stopped(claim, now: now))
            #expect(try await jobs.job(id: running.id)?.status == .cancelled)
            #expect(try await jobs.cancel(id: "job_missing", now: now) == nil)
            // A finished job stays as it is.
            #expect(try await jobs.cancel(id: running.id, now: now)?.status == .cancelled)

            let orphan = try #require(try await jobs.push(NewJob(name: "c"), now: now))
            _ = try await jobs.claim(now: now, limit: 1, lease: .zero, owner: "died")
            _ = try await jobs.cancel(id: orphan.id, now: now)
            #expect(
                try await jobs.claim(now: now.addingTimeInterval(1), limit: 5, lease: Self.long, owner: "w").isEmpty)
            #expect(try await jobs.job(id: orphan.id)?.status == .cancelled, "nobody left to stop it")
            #expect(try await jobs.replay(id: orphan.id, now: now))
            #expect(try await jobs.job(id: orphan.id)?.status == .pending)
        }
    }

    /// One schedule slot's run is pushed once, whichever instance gets there first.
    @Test(arguments: Backend.enabled)
    func aSlotKeyStoresOneJobUnderConcurrentPushes(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let stored = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await jobs.push(
                            NewJob(name: "nightly", slotKey: "nightly:acct_1:1767225600"), now: Self.now)
                            != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(stored == 1)
            #expect(try await jobs.jobs(status: nil, limit: 50).count == 1)
        }
    }

    /// Concurrent workers never hold the same job at once.
    @Test(arguments: Backend.enabled)
    func concurrentClaimersNeverGetTheSameJob(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            for index in 0..<200 { _ = try await jobs.push(NewJob(name: "n\(index)"), now: Self.now) }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let batch = try await jobs.claim(
                                now: Self.now, limit: 7, lease: Self.long, owner: "w\(worker)")
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claimed.count == 200 && Set(claimed).count == 200)
        }
    }

    /// An uninstall cancels the tenant's pending jobs and asks its running ones to stop, in the transaction that
    /// deactivates the installation; other tenants' jobs are untouched.
    @Test(arguments: Backend.enabled)
    func anUninstallCancelsTheTenantsJobs(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Self.now
            let other = Tenant(accountID: "acct_other", mode: .test)
            let running = try #require(
                try await jobs.push(NewJob(name: "r", tenant: Self.tenant, priority: 9), now: now))
            let claim = try #require(try await jobs.claim(now: now, limit: 1, lease: Self.long, owner: "w").first)
            #expect(claim.id == running.id)
            let pending = try #require(try await jobs.push(NewJob(name: "p", tenant: Self.tenant), now: now))
            let otherLive = try #require(
                try await jobs.push(
                    NewJob(name: "p", tenant: Tenant(accountID: Self.tenant.accountID, mode: .live)), now: now))
            let others = try #require(try await jobs.push(NewJob(name: "p", tenant: other), now: now))
            let global = try #require(try await jobs.push(NewJob(name: "g"), now: now))
            for action in [InstallationChange.Action.activate, .deactivate] {
                _ = try await storage.installations.apply(
                    InstallationChange(
                        tenant: Self.tenant, action: action, source: .installCallback,
                        occurredAt: now.addingTimeInterval(action == .activate ? 0 : 1), recordedAt: now))
            }
            #expect(try await jobs.job(id: pending.id)?.status == .cancelled)
            #expect(try await jobs.job(id: running.id)?.cancelRequested == true)
            #expect(try await jobs.heartbeat([claim], now: now, lease: Self.long) == [claim.id: true])
            for untouched in [otherLive, others, global] {
                #expect(try await jobs.job(id: untouched.id)?.status == .pending)
            }
        }
    }

    /// Pruning deletes succeeded, cancelled and dead jobs finished before the cutoff, oldest first and a batch at
    /// a time; jobs still to run, and younger ones, stay.
    @Test(arguments: Backend.enabled)
    func pruningDeletesOnlyFinishedJobsPastTheCutoff(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Self.now
            let old = now.addingTimeInterval(-7200)
            func finish(_ outcome: JobRecord.Status, at time: Date) async throws -> String {
                let job = try #require(try await jobs.push(NewJob(name: "p", maxAttempts: 1), now: time))
                if outcome == .cancelled {
                    _ = try await jobs.cancel(id: job.id, now: time)
                    return job.id
                }
                let claim = try #require(
                    try await jobs.claim(now: time, limit: 1, lease: Self.long, owner: "w").first { $0.id == job.id })
                if outcome == .succeeded {
                    #expect(try await jobs.complete(claim, now: time))
                } else {
                    #expect(try await jobs.fail(claim, error: "no", retryAt: nil, now: time))
                }
                return job.id
            }
            let gone = [
                try await finish(.succeeded, at: old), try await finish(.dead, at: old),
                try await finish(.cancelled, at: old),
            ]
            let kept = [
                try await finish(.succeeded, at: now),
                try #require(try await jobs.push(NewJob(name: "p", runAt: now.addingTimeInterval(86_400)), now: old))
                    .id,
            ]
            let cutoff = now.addingTimeInterval(-60)
            #expect(try await jobs.prune(finishedBefore: cutoff, limit: 2) == 2)
            #expect(try await jobs.prune(finishedBefore: cutoff, limit: 2) == 1)
            #expect(try await jobs.prune(finishedBefore: cutoff, limit: 2) == 0)
            for id in gone { #expect(try await jobs.job(id: id) == nil, "\(id)") }
            for id in kept { #expect(try await jobs.job(id: id) != nil, "\(id)") }
        }
    }
}

/// Schedules' progress, on every backend: instances advancing one schedule at once push each slot's jobs once.
@Suite struct ScheduleStoreContractTests {
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    static let tenants = [Tenant(accountID: "acct_la", mode: .live), Tenant(accountID: "acct_lb", mode: .test)]

    /// A plan that pushes one job per active tenant for every minute since the last slot, like a per-installation
    /// schedule of `* * * * *`.
    static func everyMinute(_ cursor: ScheduleCursor) -> SchedulePlan {
        guard let last = cursor.lastSlot else { return SchedulePlan(jobs: [], resumeAfter: t0) }
        var jobs: [NewJob] = []
        var slot = last.addingTimeInterval(60)
        while slot <= t0.addingTimeInterval(600) {
            for tenant in cursor.tenants {
                jobs.append(
                    NewJob(
                        name: "sync", tenant: tenant,
                        slotKey: "sync:\(tenant.accountID):\(tenant.mode):\(Int(slot.timeIntervalSince1970))"))
            }
            slot = slot.addingTimeInterval(60)
        }
        return SchedulePlan(jobs: jobs, resumeAfter: t0.addingTimeInterval(600))
    }

    @Test(arguments: Backend.enabled)
    func concurrentAdvancesPushEachSlotOnce(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let now = Date()
            for index in 0..<5 {
                let tenant = Tenant(accountID: "acct_s\(index)", mode: .test)
                _ = try await storage.installations.apply(
                    InstallationChange(
                        tenant: tenant, action: index == 4 ? .deactivate : .activate, source: .installCallback,
                        occurredAt: now, recordedAt: now))
            }
            // First sight: it starts from now and pushes nothing.
            let first = try #require(
                try await storage.schedules.advance(schedule: "sync", now: now, withInstallations: true) { cursor in
                    #expect(cursor.lastSlot == nil)
                    return Self.everyMinute(cursor)
                })
            #expect(first.pushed == 0)
            // Now twenty instances advance at once: the ten slots of the four active tenants are pushed once.
            let pushed = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await storage.schedules.advance(schedule: "sync", now: now, withInstallations: true) {
                            cursor in
                            #expect(cursor.tenants.count == 4, "the uninstalled tenant is left out")
                            return Self.everyMinute(cursor)
                        }?.pushed ?? 0
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(pushed == 40)
            #expect(try await storage.jobs.jobs(status: .pending, limit: 100).count == 40)
            let again = try #require(
                try await storage.schedules.advance(schedule: "sync", now: now, withInstallations: true) { cursor in
                    #expect(cursor.lastSlot == Self.t0.addingTimeInterval(600))
                    return SchedulePlan(jobs: [], resumeAfter: cursor.lastSlot ?? now)
                })
            #expect(again.pushed == 0)
        }
    }

    /// Every advance stores what the schedule is and its next slot; the listing reads them back, and the newest
    /// run of each tenant is found by the schedule's slot keys (not another schedule's that shares a prefix).
    @Test(arguments: Backend.enabled)
    func advancesDescribeTheScheduleAndTheNewestRunOfEachTenantIsListed(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let now = Self.t0
            let summary = ScheduleSummary(
                jobName: "sync-job", timing: "30 2 * * * (Europe/Berlin)", perInstallation: true, jitter: .seconds(90))
            _ = try await storage.schedules.advance(schedule: "sync", now: now, withInstallations: false) { _ in
                SchedulePlan(jobs: [], resumeAfter: now, nextSlot: now.addingTimeInterval(3600), summary: summary)
            }
            // A plan without a summary keeps the stored one.
            _ = try await storage.schedules.advance(schedule: "sync", now: now, withInstallations: false) { _ in
                SchedulePlan(jobs: [], resumeAfter: now.addingTimeInterval(60), nextSlot: now.addingTimeInterval(7200))
            }
            let listed = try #require(try await storage.schedules.schedules().first { $0.name == "sync" })
            #expect(listed.summary == summary)
            #expect(listed.handledThrough == now.addingTimeInterval(60))
            #expect(listed.nextSlot == now.addingTimeInterval(7200))
            #expect(
                listed.nextRun(for: Self.tenants[0])
                    == now.addingTimeInterval(
                        7200
                            + JobSchedule.jitter(for: Self.tenants[0], schedule: "sync", within: .seconds(90))
                            .timeInterval))

            let (a, b) = (Self.tenants[0], Self.tenants[1])
            var newest: [Tenant: String] = [:]
            for (tenant, slot, schedule) in [
                (a, 1_767_225_600, "sync"), (a, 1_767_312_000, "sync"), (b, 1_767_225_600, "sync"),
                (a, 1_767_398_400, "sync-other"), (b, 1_767_398_400, "syncs"),
            ] {
                let job = try #require(
                    try await storage.jobs.push(
                        NewJob(
                            name: "sync-job", tenant: tenant,
                            slotKey: "\(schedule):\(tenant.accountID):\(tenant.mode):\(slot)"),
                        now: now))
                if schedule == "sync", newest[tenant] == nil || slot == 1_767_312_000 { newest[tenant] = job.id }
            }
            let runs = try await storage.schedules.latestRuns(of: "sync")
            #expect(Set(runs.map(\.id)) == Set(newest.values), "\(runs.map(\.slotKey))")
            #expect(try await storage.schedules.latestRuns(of: "nothing").isEmpty)
        }
    }
}
