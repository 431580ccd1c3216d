// The complete example of Docs/jobs.md ("A complete example: a nightly customer sync"), compiled here so that it
// keeps building: `DocsExampleTests` checks that the guide shows exactly the region below, and
// `NightlyCustomerSyncTests` runs it against the fake Stripe and a fake CRM.

// docs:begin nightly-customer-sync
import Foundation
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsAPI
import StripeAppsServer

/// The sync's parameters: none, each run's tenant comes with its job.
struct NightlyCustomerSync: JobParameters {
    static let jobName = "nightly-customer-sync"
}

/// A customer as the CRM's `POST /v1/contacts/batch` takes it.
struct CRMContact: Codable, Sendable {
    let id: String
    let email: String?
    let name: String?
}

/// The CRM refused a batch: the run fails and the job is retried.
struct CRMError: Error, CustomStringConvertible {
    let status: UInt
    var description: String { "the CRM answered \(status)" }
}

/// Every night at 02:30 Berlin time, sends each installed tenant's customers to its own CRM account, with the
/// API key the tenant saved in the app's settings (`crm.api_key`, sealed with `ENCRYPTION_KEYS`).
func registerNightlyCustomerSync(in registry: inout JobRegistry, crmBaseURL: URL, batchSize: Int = 100) throws {
    registry.registerJob(
        parameters: NightlyCustomerSync.self,
        retryStrategy: .exponentialJitter(maxAttempts: 5, maxBackoff: .seconds(900)),
        timeout: .seconds(1800)
    ) { _, context in
        guard let tenant = context.tenant else { return }  // scheduled per installation: every run has one
        let stripe = try await context.stripe()
        let crm = ExternalAPIClient(
            baseURL: crmBaseURL.absoluteString, credentialName: "crm.api_key", secrets: try context.credentials())
        var batch: [CRMContact] = []
        var sent = 0
        for try await customer in stripe.customers.all() {  // fetches the next page when the loop reaches it
            batch.append(CRMContact(id: customer.id, email: customer.email, name: customer.name))
            guard batch.count == batchSize else { continue }
            try await post(batch, to: crm, for: tenant, context: context)
            sent += batch.count
            batch.removeAll()
            try await context.progress(nil, message: "\(sent) customers sent")  // a Stripe list has no total
        }
        try await post(batch, to: crm, for: tenant, context: context)
        try await context.progress(1, message: "\(sent + batch.count) customers sent")
    }
    try registry.addSchedule(
        "nightly-customer-sync", try JobSchedule.daily(hour: 2, minute: 30, timeZone: "Europe/Berlin"),
        parameters: NightlyCustomerSync(), perInstallation: true, jitter: .seconds(600))
}

/// Posts one batch with the tenant's key. The idempotency key names the job and the batch's first and last
/// customers: a retried run that lists the same batch again gets the CRM's first answer, not a second import.
private func post(
    _ batch: [CRMContact], to crm: ExternalAPIClient, for tenant: Tenant, context: JobExecutionContext
) async throws {
    guard let first = batch.first, let last = batch.last else { return }
    let response = try await crm.send(
        .POST, "/v1/contacts/batch",
        headers: [
            "Content-Type": "application/json",
            "Idempotency-Key": context.idempotencyKey(step: "crm-batch:\(first.id):\(last.id)"),
        ],
        body: ByteBuffer(bytes: try JSONEncoder().encode(["contacts": batch])), for: tenant)
    guard (200..<300).contains(response.status.code) else { throw CRMError(status: response.status.code) }
}
// docs:end nightly-customer-sync
