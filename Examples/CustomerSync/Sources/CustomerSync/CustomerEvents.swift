import Foundation
import Logging
import StripeApps
import StripeAppsServer

extension CustomerSyncApp {
    /// `customer.created`, `customer.updated` and `customer.deleted`: each sends the change to the tenant's CRM.
    ///
    /// Handlers run from the backend's durable inbox: one tenant's events one after the other, a failure retried
    /// with backoff. A transient CRM failure (429, 5xx, no answer) throws, so the event is retried; a permanent
    /// one (a revoked key) is counted and logged, since retrying cannot fix it. A tenant that has not connected
    /// its CRM yet has nothing to sync: the nightly run after it connects catches up.
    static func customerHandlers(_ syncer: CustomerSyncer) -> EventHandlers {
        var handlers = EventHandlers()
        for type in ["customer.created", "customer.updated", "customer.deleted"] {
            handlers.on(type) { context in
                guard let tenant = context.tenant, let object = context.event.object,
                    let customerID = object["id"]?.stringValue
                else { return }
                guard try await syncer.crm.isConnected(tenant) else {
                    context.logger.debug("CRM not connected; change left to the next full sync")
                    return
                }
                let contact =
                    type == "customer.deleted"
                    ? nil
                    : CRMContact(id: customerID, email: object["email"]?.stringValue, name: object["name"]?.stringValue)
                do {
                    try await syncer.send(
                        contact, customerID: customerID,
                        changedAt: Date(timeIntervalSince1970: TimeInterval(context.event.created)), for: tenant,
                        trigger: "event", idempotencyKey: context.idempotencyKey(step: "crm"))
                } catch let error as CRMError where !error.isTransient {
                    context.logger.warning("CRM refused a customer change", metadata: ["error": "\(error)"])
                }
            }
        }
        return handlers
    }
}
