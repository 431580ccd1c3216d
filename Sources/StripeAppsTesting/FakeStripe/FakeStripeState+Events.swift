import StripeApps

extension FakeStripeState {
    /// Stores an event envelope shaped like `fixtures3.json`'s event and returns its id.
    ///
    /// `account` is set only for connected accounts, as in the events Stripe delivers to Connect platforms;
    /// `pending_webhooks` is 0 when every delivery succeeded and 1 otherwise.
    @discardableResult
    mutating func recordEvent(
        type: String,
        tenant: Tenant,
        object: PayloadValue,
        deliverySuccess: Bool,
        created: Int64,
        request: (id: String?, idempotencyKey: String?),
        settings: FakeStripeSettings
    ) -> String {
        let id = FakeStripeIdentifiers.make("evt_", length: 24)
        var json = settings.fixtures.event
            .setting("id", .string(id))
            .setting("api_version", .string(settings.apiVersion))
            .setting("created", .integer(created))
            .setting("data", .object([PayloadField("object", object)]))
            .setting("livemode", .bool(tenant.mode.isLive))
            .setting("pending_webhooks", .integer(deliverySuccess ? 0 : 1))
            .setting(
                "request",
                .object([
                    PayloadField("id", .optional(request.id)),
                    PayloadField("idempotency_key", .optional(request.idempotencyKey)),
                ])
            )
            .setting("type", .string(type))
        if tenant.accountID != settings.platformAccountID {
            json = json.setting("account", .string(tenant.accountID), after: "id")
        }
        let stored = FakeStripeLedger.StoredEvent(
            object: FakeStripeLedger.StoredObject(id: id, created: created, sequence: nextSequence(), json: json),
            type: type,
            deliverySuccess: deliverySuccess
        )
        ledgers[tenant, default: FakeStripeLedger()].events[id] = stored
        return id
    }

    /// `GET /v1/events/{id}`.
    func retrieveEvent(_ id: String, _ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        try call.parameters.allowOnly(["expand"])
        _ = try call.parameters.expansions(allowed: [])
        guard let event = ledgers[call.tenant]?.events[id] else { throw .noSuch("event", id: id) }
        return event.object.json
    }

    /// `GET /v1/events`, filtered by `type` (with a trailing `*` wildcard), `types[]`, `delivery_success` and
    /// `created`.
    func listEvents(_ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        let parameters = call.parameters
        try parameters.allowOnly([
            "created", "delivery_success", "ending_before", "expand", "limit", "starting_after", "type", "types",
        ])
        _ = try parameters.expansions(allowed: [])
        let type = try parameters.string("type").flatMap { $0.isEmpty ? nil : $0 }
        let types = try parameters.strings("types")
        if type != nil, types != nil { throw .exclusive("type", "types") }
        if let types, types.count > 20 {
            throw .invalidParameter("You may pass at most 20 types.", param: "types")
        }
        let deliverySuccess = try parameters.boolean("delivery_success")
        let created = try FakeStripeCreatedFilter(parameters)
        let events = ledgers[call.tenant]?.events.values.map { $0 } ?? []
        let matching = events.filter { event in
            if let type {
                let matchesType =
                    type.hasSuffix("*") ? event.type.hasPrefix(type.dropLast()) : event.type == type
                guard matchesType else { return false }
            }
            if let types, !types.contains(event.type) { return false }
            if let deliverySuccess, event.deliverySuccess != deliverySuccess { return false }
            return created.contains(event.object.created)
        }
        let list = FakeStripeList(
            url: "/v1/events",
            resource: "event",
            all: events.map(\.object.entry)
        )
        return try list.page(of: matching.map(\.object.entry), parameters: parameters)
    }
}
