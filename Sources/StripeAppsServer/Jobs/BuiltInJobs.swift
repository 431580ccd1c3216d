import Foundation
import Logging
import StripeApps
import StripeAppsAPI

/// The parameters of the backend's own missed-event recovery job (none: the tenant is the job's).
struct RecoverMissedEvents: JobParameters {
    static let jobName = "stripe_apps_backend.recover_missed_events"
}

/// The backend's own periodic work, run as jobs so that `jobs list` shows it and every instance shares it.
enum BuiltInJobs {
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
