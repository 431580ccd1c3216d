import StripeApps

extension FakeStripeState {
    /// The most secrets one scope holds; creating one more fails with `secret_limit_exceeded`.
    static let secretLimitPerScope = 10

    /// `POST /v1/apps/secrets`: creates the secret, or replaces the one of the same name in the scope.
    mutating func setSecret(_ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        let parameters = call.parameters
        try parameters.allowOnly(["expand", "expires_at", "name", "payload", "scope"])
        let expand = try parameters.expansions(allowed: ["payload"])
        let name = try parameters.requiredString("name")
        let payload = try parameters.requiredString("payload")
        let scope = try Self.secretScope(parameters)
        let expiresAt = try parameters.integer("expires_at")
        if let expiresAt {
            guard expiresAt > call.timestamp else {
                throw .invalidParameter(
                    "expires_at must be in the future.",
                    code: "parameter_invalid_integer",
                    param: "expires_at"
                )
            }
            guard expiresAt - call.timestamp <= 3_155_760_000 else {
                throw .invalidParameter(
                    "expires_at must be at most 100 years in the future.",
                    code: "parameter_invalid_integer",
                    param: "expires_at"
                )
            }
        }
        ledgers[call.tenant, default: FakeStripeLedger()].purgeExpiredSecrets(at: call.timestamp)
        let existing = ledgers[call.tenant]?.secrets[scope] ?? [:]
        if existing[name] == nil, existing.count >= Self.secretLimitPerScope {
            throw .api(
                status: 400,
                type: "invalid_request_error",
                code: "secret_limit_exceeded",
                message: "This scope already holds the maximum of \(Self.secretLimitPerScope) secrets. Delete one "
                    + "before creating another.",
                param: "name"
            )
        }
        let secret = FakeStripeLedger.StoredSecret(
            id: FakeStripeIdentifiers.make("appsecret_", length: 30),
            name: name,
            payload: payload,
            scope: scope,
            created: call.timestamp,
            sequence: nextSequence(),
            expiresAt: expiresAt
        )
        ledgers[call.tenant, default: FakeStripeLedger()].secrets[scope, default: [:]][name] = secret
        return Self.json(of: secret, withPayload: expand.contains("payload"), call: call)
    }

    /// `GET /v1/apps/secrets/find`; `payload` only with `expand[]=payload`.
    mutating func findSecret(_ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        let parameters = call.parameters
        try parameters.allowOnly(["expand", "name", "scope"])
        let expand = try parameters.expansions(allowed: ["payload"])
        let name = try parameters.requiredString("name")
        let scope = try Self.secretScope(parameters)
        ledgers[call.tenant, default: FakeStripeLedger()].purgeExpiredSecrets(at: call.timestamp)
        guard let secret = ledgers[call.tenant]?.secrets[scope]?[name] else {
            throw .noSuch("secret", id: name, param: "name")
        }
        return Self.json(of: secret, withPayload: expand.contains("payload"), call: call)
    }

    /// `GET /v1/apps/secrets`: the scope's secrets, newest first; payloads only with `expand[]=data.payload`.
    mutating func listSecrets(_ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        let parameters = call.parameters
        try parameters.allowOnly(["ending_before", "expand", "limit", "scope", "starting_after"])
        let expand = try parameters.expansions(allowed: ["data.payload"])
        let scope = try Self.secretScope(parameters)
        ledgers[call.tenant, default: FakeStripeLedger()].purgeExpiredSecrets(at: call.timestamp)
        let secrets = ledgers[call.tenant]?.secrets[scope]?.values.map { $0 } ?? []
        let entries = secrets.map { secret in
            FakeStripeList.Entry(
                id: secret.id,
                created: secret.created,
                sequence: secret.sequence,
                object: Self.json(of: secret, withPayload: expand.contains("data.payload"), call: call)
            )
        }
        let list = FakeStripeList(url: "/v1/apps/secrets", resource: "secret", all: entries)
        return try list.page(of: entries, parameters: parameters)
    }

    /// `POST /v1/apps/secrets/delete`: removes the secret and returns it with `"deleted": true`.
    mutating func deleteSecret(_ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        let parameters = call.parameters
        try parameters.allowOnly(["expand", "name", "scope"])
        _ = try parameters.expansions(allowed: [])
        let name = try parameters.requiredString("name")
        let scope = try Self.secretScope(parameters)
        ledgers[call.tenant, default: FakeStripeLedger()].purgeExpiredSecrets(at: call.timestamp)
        guard let secret = ledgers[call.tenant]?.secrets[scope]?.removeValue(forKey: name) else {
            throw .noSuch("secret", id: name, param: "name")
        }
        return Self.json(of: secret, withPayload: false, call: call).setting("deleted", .bool(true), after: "created")
    }

    /// Reads `scope[type]` and `scope[user]`.
    private static func secretScope(
        _ parameters: FakeStripeParameters
    ) throws(FakeStripeError) -> FakeStripeLedger.SecretScope {
        guard let scope = try parameters.object("scope") else { throw .missing("scope") }
        try scope.allowOnly(["type", "user"])
        let user = try scope.string("user")
        switch try scope.requiredString("type") {
        case "account":
            guard user == nil else {
                throw .invalidParameter(
                    "scope[user] can only be set when scope[type] is user.",
                    code: "parameter_unknown",
                    param: "scope[user]"
                )
            }
            return FakeStripeLedger.SecretScope(user: nil)
        case "user":
            guard let user else { throw .missing("scope[user]") }
            guard !user.isEmpty else { throw .empty("scope[user]") }
            return FakeStripeLedger.SecretScope(user: user)
        case let other:
            throw .invalidParameter(
                "Invalid scope[type]: must be one of account or user (got \(other)).",
                param: "scope[type]"
            )
        }
    }

    private static func json(
        of secret: FakeStripeLedger.StoredSecret,
        withPayload: Bool,
        call: FakeStripeCall
    ) -> PayloadValue {
        var json = call.settings.fixtures.secret
            .setting("created", .integer(secret.created))
            .setting("expires_at", secret.expiresAt.map { .integer($0) } ?? .null)
            .setting("id", .string(secret.id))
            .setting("livemode", .bool(call.tenant.mode.isLive))
            .setting("name", .string(secret.name))
            .setting("scope", secret.scope.json)
        if withPayload { json = json.setting("payload", .string(secret.payload), after: "name") }
        return json
    }
}
