import Foundation
import StripeApps

/// Sends customer changes to the CRM in the order Stripe made them: a change no newer than the one recorded for
/// the customer changes nothing, so duplicates, replays and late out-of-order events are harmless.
struct CustomerSyncer: Sendable {
    let crm: CRMClient
    let ledger: any SyncLedger
    let metrics: SyncMetrics
    let now: @Sendable () -> Date

    /// Sends one change of a customer unless a newer one was sent; returns whether it sent it.
    ///
    /// - Parameters:
    ///   - contact: The customer as the CRM takes it; `nil` when Stripe deleted it.
    ///   - customerID: The customer.
    ///   - changedAt: When Stripe made the change.
    ///   - trigger: What sent it (`event`, `nightly`, `manual`), for the metrics.
    ///   - idempotencyKey: The same on every retry of this change.
    @discardableResult
    func send(
        _ contact: CRMContact?, customerID: String, changedAt: Date, for tenant: Tenant, trigger: String,
        idempotencyKey: String
    ) async throws -> Bool {
        if let recorded = try await ledger.record(of: customerID, for: tenant), recorded.changedAt >= changedAt {
            return false
        }
        do {
            if let contact {
                try await crm.upsert(contact, for: tenant, idempotencyKey: idempotencyKey)
            } else {
                try await crm.delete(contactID: customerID, for: tenant, idempotencyKey: idempotencyKey)
            }
        } catch let error as CRMError {
            metrics.crmError(error)
            throw error
        }
        let record = SyncRecord(
            customerID: customerID, changedAt: changedAt, isDeleted: contact == nil, syncedAt: now())
        _ = try await ledger.store(record, for: tenant)
        metrics.synced(trigger: trigger)
        return true
    }
}
