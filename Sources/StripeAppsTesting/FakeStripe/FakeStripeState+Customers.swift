import Foundation
import StripeApps

extension FakeStripeState {
    /// `GET /v1/account` and `GET /v1/accounts/{id}`: the acting account, or, for the platform acting as itself,
    /// one of its connected accounts.
    func retrieveAccount(_ id: String, _ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        try call.parameters.allowOnly(["expand"])
        _ = try call.parameters.expansions(allowed: [])
        let isPlatformAsItself = !call.isConnectedAccount && call.credential.kind == .platform
        let isKnown = id == call.settings.platformAccountID || connectedAccounts.contains(id)
        guard id == call.tenant.accountID || (isPlatformAsItself && connectedAccounts.contains(id)) else {
            guard isKnown else { throw .noSuch("account", id: id) }
            throw .api(
                status: 403,
                type: "invalid_request_error",
                code: "account_invalid",
                message: "The provided key '\(call.credential.masked)' does not have access to account '\(id)' "
                    + "(or that account does not exist). Application access may have been revoked.",
                isStored: false
            )
        }
        var account = call.settings.fixtures.account.setting("id", .string(id))
        if let accounts = account["external_accounts"] {
            account = account.setting(
                "external_accounts", accounts.setting("url", .string("/v1/accounts/\(id)/external_accounts")))
        }
        return account
    }

    /// `POST /v1/customers`.
    mutating func createCustomer(_ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        let parameters = call.parameters
        try parameters.allowOnly(["description", "email", "expand", "metadata", "name", "phone"])
        _ = try parameters.expansions(allowed: [])
        let email = try parameters.string("email").flatMap { $0.isEmpty ? nil : $0 }
        if let email, !Self.looksLikeEmail(email) {
            throw .invalidParameter("Invalid email address: \(email)", code: "email_invalid", param: "email")
        }
        let metadata = try parameters.metadata()
        let id = FakeStripeIdentifiers.make("cus_")
        let created = call.timestamp
        let json = call.settings.fixtures.customer
            .setting("id", .string(id))
            .setting("created", .integer(created))
            .setting("description", .optional(try parameters.string("description").flatMap { $0.isEmpty ? nil : $0 }))
            .setting("discount", .null)
            .setting("email", .optional(email))
            .setting("invoice_prefix", .string(String(FakeStripeIdentifiers.make("", length: 8).uppercased())))
            .setting("livemode", .bool(call.tenant.mode.isLive))
            .setting("metadata", .object(metadata))
            .setting("name", .optional(try parameters.string("name").flatMap { $0.isEmpty ? nil : $0 }))
            .setting("phone", .optional(try parameters.string("phone").flatMap { $0.isEmpty ? nil : $0 }))
        let stored = FakeStripeLedger.StoredObject(id: id, created: created, sequence: nextSequence(), json: json)
        ledgers[call.tenant, default: FakeStripeLedger()].customers[id] = stored
        recordEvent(
            type: "customer.created",
            tenant: call.tenant,
            object: json,
            deliverySuccess: true,
            created: created,
            request: (call.requestID, call.idempotencyKey),
            settings: call.settings
        )
        return json
    }

    /// `GET /v1/customers/{id}`.
    func retrieveCustomer(_ id: String, _ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        try call.parameters.allowOnly(["expand"])
        _ = try call.parameters.expansions(allowed: [])
        guard let customer = ledgers[call.tenant]?.customers[id] else { throw .noSuch("customer", id: id) }
        return customer.json
    }

    /// `GET /v1/customers`, filtered by `email` and `created`.
    func listCustomers(_ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        let parameters = call.parameters
        try parameters.allowOnly(["created", "email", "ending_before", "expand", "limit", "starting_after"])
        _ = try parameters.expansions(allowed: [])
        let email = try parameters.string("email")
        let created = try FakeStripeCreatedFilter(parameters)
        let customers = ledgers[call.tenant]?.customers.values.map { $0 } ?? []
        let list = FakeStripeList(
            url: "/v1/customers",
            resource: "customer",
            all: customers.map(\.entry)
        )
        let matching = customers.filter { customer in
            (email == nil || customer.json["email"] == .string(email ?? "")) && created.contains(customer.created)
        }
        return try list.page(of: matching.map(\.entry), parameters: parameters)
    }

    private static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(" ")
    }
}
