import Foundation
import Hummingbird
import Logging
import StripeApps
import StripeAppsServer

extension CustomerSyncApp {
    /// The app's signed UI routes, under `/api` (the UI extension calls them with `fetchStripeSignature`; see
    /// `ui/src/api.ts`). The backend verifies the signature and that the app is installed for the tenant before
    /// any of them runs.
    ///
    /// | Route | Who | What |
    /// |---|---|---|
    /// | `GET /api/sync` | any user | whether the CRM is connected, the install, the synced count, the last full sync |
    /// | `POST /api/sync` | any user | queues a full sync (409 `crm_not_connected` before a key is connected) |
    /// | `GET /api/customers/{id}/sync` | any user | one customer's sync status |
    /// | `POST /api/crm/connection` | Administrator | checks `{"api_key"}` with the CRM, stores it, queues a full sync |
    /// | `POST /api/crm/disconnection` | Administrator | forgets the key |
    ///
    /// The administrator routes are POSTs: only a POST's signed body carries the user's roles (a GET or DELETE
    /// signs the ids alone).
    static func routes(_ parts: Parts) -> @Sendable (RouterGroup<VerifiedRequestContext>) -> Void {
        { api in
            api.get("sync") { _, context in try await status(parts, tenant: try context.user.tenant()) }
            api.post("sync") { _, context in
                let tenant = try context.user.tenant()
                guard try await parts.syncer.crm.isConnected(tenant) else { throw notConnected }
                let job = try await parts.jobs.push(FullSync(trigger: "manual"), options: JobOptions(tenant: tenant))
                return Response.json(
                    .object([
                        PayloadField("queued", .bool(true)), PayloadField("job", job.map(PayloadValue.string) ?? .null),
                    ]),
                    status: .accepted)
            }
            api.get("customers/:customer/sync") { _, context in
                let customerID = try context.parameters.require("customer")
                guard StripeID.isValid(customerID, prefix: "cus_") else {
                    throw APIError.badRequest("invalid_customer", "A customer id starts with cus_.")
                }
                let record = try await parts.syncer.ledger.record(of: customerID, for: try context.user.tenant())
                let state = record.map { $0.isDeleted ? "deleted" : "synced" } ?? "not_synced"
                return Response.json(
                    .object([
                        PayloadField("customer", .string(customerID)), PayloadField("status", .string(state)),
                        PayloadField("synced_at", record.map { .string(timestamp($0.syncedAt)) } ?? .null),
                    ]))
            }
            // Connecting the CRM hands the app a key to the merchant's CRM account: administrators only.
            let admin = api.group("crm").add(middleware: RequireRolesMiddleware(anyOf: ["Administrator"]))
            admin.post("connection") { _, context in try await connect(parts, context) }
            admin.post("disconnection") { _, context in
                try await parts.secrets.deleteSecret(named: CRMClient.credentialName, for: try context.user.tenant())
                return Response.json(.object([PayloadField("connected", .bool(false))]))
            }
        }
    }

    static let notConnected = APIError(
        .conflict, code: "crm_not_connected", message: "Connect the CRM first: an administrator pastes its API key.")

    private static func status(_ parts: Parts, tenant: Tenant) async throws -> Response {
        let state = try await parts.syncer.ledger.state(of: tenant)
        let last = state?.lastFullSync.map { sync in
            PayloadValue.object([
                PayloadField("finished_at", .string(timestamp(sync.finishedAt))),
                PayloadField("customers", .number(Double(sync.customers))),
                PayloadField("trigger", .string(sync.trigger)),
            ])
        }
        return Response.json(
            .object([
                PayloadField("connected", .bool(try await parts.syncer.crm.isConnected(tenant))),
                PayloadField("installed_at", state?.installedAt.map { .string(timestamp($0)) } ?? .null),
                PayloadField(
                    "synced_customers", .number(Double(try await parts.syncer.ledger.syncedCount(for: tenant)))),
                PayloadField("last_full_sync", last ?? .null),
            ]))
    }

    /// Checks the key with the CRM before storing it: a mistyped key is refused here, not at 2 a.m.
    private static func connect(_ parts: Parts, _ context: VerifiedRequestContext) async throws -> Response {
        let tenant = try context.user.tenant()
        guard let key = context.user.payload[extra: "api_key"]?.stringValue?.trimmingCharacters(in: .whitespaces),
            (8...200).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace })
        else {
            throw APIError.badRequest("invalid_api_key", "Send the CRM's API key as api_key (8 to 200 characters).")
        }
        let status = try await parts.checkKey(key, tenant)
        switch status {
        case 200..<300: break
        case 401, 403:
            throw APIError.badRequest("crm_key_rejected", "The CRM did not accept this API key.")
        default:
            parts.syncer.metrics.crmError(CRMError(operation: "check", status: status))
            throw APIError(.badGateway, code: "crm_unavailable", message: "The CRM could not check the key; try again.")
        }
        try await parts.secrets.setSecret(key, named: CRMClient.credentialName, for: tenant)
        let job = try await parts.jobs.push(FullSync(trigger: "manual"), options: JobOptions(tenant: tenant))
        context.logger.info("CRM connected", metadata: ["stripe.user": .string(context.user.userID)])
        return Response.json(
            .object([
                PayloadField("connected", .bool(true)), PayloadField("job", job.map(PayloadValue.string) ?? .null),
            ]))
    }

    /// An ISO 8601 time in UTC.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
