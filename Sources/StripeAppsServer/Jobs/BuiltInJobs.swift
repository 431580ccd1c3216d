import Foundation
import Logging
import StripeApps
import StripeAppsAPI

/// The parameters of the backend's own missed-event recovery job (none: the tenant is the job's).
struct RecoverMissedEvents: JobParameters {
    static let jobName = "stripe_apps_backend.recover_missed_events"
}

/// The parameters of the backend's job that deletes expired install-link states.
struct PruneInstallStates: JobParameters {
    static let jobName = "stripe_apps_backend.prune_install_states"
}

/// The parameters of the backend's job that deletes the payloads of finished events past `EVENT_RETENTION_DAYS`.
struct PruneInbox: JobParameters {
    static let jobName = "stripe_apps_backend.prune_inbox"
}

/// The parameters of the backend's job that deletes finished jobs past `JOB_RETENTION_DAYS`.
struct PruneJobs: JobParameters {
    static let jobName = "stripe_apps_backend.prune_jobs"
}

/// The backend's own periodic work, run as jobs so that `jobs list` shows it and every instance shares it.
enum BuiltInJobs {
    /// How many rows one statement of a pruning job deletes or empties, so no transaction grows large.
    static let pruneBatch = 1000

    /// The pruning schedules, global, each slot run once across the instances:
    /// - every 5 minutes, install-link states past their expiry are deleted (the callback drops an expired state
    ///   it is given, but the states of links nobody finished would otherwise stay);
    /// - every hour, finished events that arrived more than `eventRetention` ago lose their payload (the id stays,
    ///   so a redelivery is still a duplicate);
    /// - every hour, succeeded, cancelled and dead jobs that finished more than `jobRetention` ago are deleted.
    static func registerMaintenance(
        in registry: inout JobRegistry,
        installStates: some InstallStateStore,
        inbox: some EventInbox,
        jobs: some JobQueue,
        eventRetention: Duration,
        jobRetention: Duration,
        now: @escaping @Sendable () -> Date
    ) {
        let retry = JobRetryStrategy.exponentialJitter(
            maxAttempts: 3, minBackoff: .seconds(30), maxBackoff: .seconds(600))
        registry.registerJob(parameters: PruneInstallStates.self, retryStrategy: retry, timeout: .seconds(300)) {
            _, context in
            let deleted = try await installStates.deleteExpired(now: now())
            try await context.progress(1, message: "\(deleted) expired install states deleted")
        }
        registry.registerJob(parameters: PruneInbox.self, retryStrategy: retry, timeout: .seconds(1800)) { _, context in
            let cutoff = now().addingTimeInterval(-eventRetention.timeInterval)
            let pruned = try await drain { try await inbox.prune(receivedIn: Date.distantPast..<cutoff, limit: $0) }
            try await context.progress(1, message: "\(pruned) finished events' payloads deleted")
        }
        registry.registerJob(parameters: PruneJobs.self, retryStrategy: retry, timeout: .seconds(1800)) { _, context in
            let cutoff = now().addingTimeInterval(-jobRetention.timeInterval)
            let deleted = try await drain { try await jobs.prune(finishedBefore: cutoff, limit: $0) }
            try await context.progress(1, message: "\(deleted) finished jobs deleted")
        }
        // Whole numbers of seconds: these cannot fail, and a schedule added twice would only be refused.
        for (name, seconds, parameters) in [
            ("stripe_apps_backend.prune-install-states", Int64(300), PruneInstallStates() as any JobParameters),
            ("stripe_apps_backend.prune-inbox", 3600, PruneInbox()),
            ("stripe_apps_backend.prune-jobs", 3600, PruneJobs()),
        ] {
            guard let schedule = try? JobSchedule.every(.seconds(seconds)) else { continue }
            try? addSchedule(name, schedule, parameters, to: &registry)
        }
    }

    /// Adds a global schedule of an existential parameters value (opened for the generic `addSchedule`): after
    /// downtime, one run for the backlog (each run prunes everything due).
    private static func addSchedule<Parameters: JobParameters>(
        _ name: String, _ schedule: JobSchedule, _ parameters: Parameters, to registry: inout JobRegistry
    ) throws {
        try registry.addSchedule(name, schedule, parameters: parameters, accuracy: .latest, grace: .seconds(60))
    }

    /// Runs `step` with ``pruneBatch`` until a pass does less than a batch, checking for cancellation between
    /// passes; returns the total.
    static func drain(_ step: (Int) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            try Task.checkCancellation()
            let count = try await step(pruneBatch)
            total += count
            if count < pruneBatch { return total }
        }
    }

    /// The schedule of the missed-event recovery.
    static let recoverySchedule = "stripe_apps_backend.recover-missed-events"

    /// Every `hours`, for each active installation, the events whose webhook delivery failed are fetched from the
    /// Events API into the inbox (deduplicated there), spread over up to an hour by per-tenant jitter.
    static func registerRecovery(
        in registry: inout JobRegistry,
        every hours: Int,
        installations: some InstallationStore,
        inbox: some EventInbox,
        clients: TenantClients,
        now: @escaping @Sendable () -> Date
    ) {
        let recovery = MissedEventRecovery(installations: installations, inbox: inbox, clients: clients, now: now)
        registry.registerJob(
            parameters: RecoverMissedEvents.self,
            retryStrategy: .exponentialJitter(maxAttempts: 3, minBackoff: .seconds(60), maxBackoff: .seconds(3600)),
            timeout: .seconds(1800)
        ) { _, context in
            guard let tenant = context.tenant else { return }
            let report = try await recovery.run(for: tenant)
            context.logger.info(
                "missed events recovered",
                metadata: ["events.listed": "\(report.listed)", "events.enqueued": "\(report.enqueued)"])
            if let failure = report.failures.first {
                throw JobError("listing undelivered events failed: \(failure.reason)")
            }
        }
        let seconds = Int64(hours) * 3600
        // `every` of a whole number of hours cannot fail; a schedule that could not be added would only be absent.
        if let schedule = try? JobSchedule.every(.seconds(seconds)) {
            try? registry.addSchedule(
                recoverySchedule, schedule, parameters: RecoverMissedEvents(), perInstallation: true,
                accuracy: .latest, grace: .seconds(3600), jitter: .seconds(min(3600, seconds / 4)))
        }
    }
}
