import StripeAppsAPI
public import StripeAppsServer

/// A full sync of one tenant's customers: every night per installation, and when an administrator asks for one.
public struct FullSync: JobParameters {
    public static let jobName = "customer-sync.full-sync"
    /// `nightly` or `manual`.
    public let trigger: String

    /// Creates the parameters.
    public init(trigger: String) {
        self.trigger = trigger
    }
}

extension CustomerSyncApp {
    /// Registers the full sync and its nightly schedule (one run per installation at the configured time, spread
    /// over 10 minutes).
    ///
    /// A run pages through the tenant's customers with its tenant-bound Stripe client, sends each one to the CRM
    /// and reports its progress. Each is sent as of the time the job was queued: a retried run skips the customers
    /// its first attempt sent (the ledger has them at that time), and a customer an event changed since is left
    /// as the event sent it.
    static func registerFullSync(
        in registry: inout JobRegistry, syncer: CustomerSyncer, options: Options
    ) throws {
        registry.registerJob(
            parameters: FullSync.self,
            retryStrategy: .exponentialJitter(maxAttempts: 5, maxBackoff: .seconds(900)),
            timeout: .seconds(3600)
        ) { parameters, context in
            guard let tenant = context.tenant else { return }
            guard try await syncer.crm.isConnected(tenant) else {
                try await context.progress(1, message: "CRM not connected; nothing to sync")
                return
            }
            let stripe = try await context.stripe()
            let listedAt = context.queuedAt
            var seen = 0
            var sent = 0
            for try await customer in stripe.customers.all() {
                seen += 1
                let contact = CRMContact(id: customer.id, email: customer.email, name: customer.name)
                if try await syncer.send(
                    contact, customerID: customer.id, changedAt: listedAt, for: tenant, trigger: parameters.trigger,
                    idempotencyKey: context.idempotencyKey(step: "crm:\(customer.id)"))
                {
                    sent += 1
                }
                if seen % 100 == 0 {
                    try await context.progress(nil, message: "\(seen) customers checked, \(sent) sent")
                }
            }
            try await syncer.ledger.recordFullSync(
                FullSyncSummary(finishedAt: syncer.now(), customers: seen, trigger: parameters.trigger), for: tenant)
            try await context.progress(1, message: "\(seen) customers checked, \(sent) sent")
        }
        try registry.addSchedule(
            "customer-sync.nightly", options.nightly, parameters: FullSync(trigger: "nightly"), perInstallation: true,
            jitter: .seconds(600))
    }
}
