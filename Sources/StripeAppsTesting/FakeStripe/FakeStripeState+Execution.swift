import Foundation
import StripeApps

extension FakeStripeState {
    /// A request as it arrived, before authorization.
    struct Incoming: Sendable {
        var method: String
        var path: String
        var parameters: Result<PayloadValue, FakeStripeError>
        var key: String?
        var stripeAccount: String?
        var idempotencyKey: String?
        var requestID: String
    }

    /// Authorizes, routes, replays or executes `incoming`, and saves idempotent answers; never throws, since
    /// every failure is an answer.
    mutating func execute(_ incoming: Incoming, settings: FakeStripeSettings, now: Date) -> FakeStripeReply {
        do {
            return try executeOrThrow(incoming, settings: settings, now: now)
        } catch {
            return FakeStripeReply(error: error, requestID: incoming.requestID)
        }
    }

    private mutating func executeOrThrow(
        _ incoming: Incoming,
        settings: FakeStripeSettings,
        now: Date
    ) throws(FakeStripeError) -> FakeStripeReply {
        let credential = credential(for: incoming.key, settings: settings, now: now)
        // 401 comes first, before the URL is even looked at.
        _ = try tenant(for: credential, stripeAccount: nil, settings: settings)
        let segments = incoming.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        guard let endpoint = FakeStripeEndpoint.match(method: incoming.method, segments: segments) else {
            throw .unrecognized(method: incoming.method, path: incoming.path)
        }
        let tenant: Tenant
        if endpoint == .oauthToken {
            // Only the platform exchanges codes and refresh tokens; `Stripe-Account` plays no part.
            guard case .platform(let mode, _) = credential else {
                throw .api(
                    status: 403,
                    type: "invalid_request_error",
                    message: "The provided key '\(credential.masked)' does not have the required permissions for "
                        + "this endpoint. Only the platform's secret key can use /v1/oauth/token.",
                    isStored: false
                )
            }
            tenant = settings.platform(mode)
        } else {
            tenant = try self.tenant(for: credential, stripeAccount: incoming.stripeAccount, settings: settings)
        }
        let parameters = try incoming.parameters.get()
        let call = FakeStripeCall(
            method: incoming.method,
            path: incoming.path,
            segments: segments,
            parameters: FakeStripeParameters(parameters),
            tenant: tenant,
            credential: credential,
            requestID: incoming.requestID,
            idempotencyKey: endpoint.isPost ? incoming.idempotencyKey : nil,
            now: now,
            settings: settings
        )
        guard let key = call.idempotencyKey else { return run(endpoint, call) }
        guard key.count <= 255 else {
            throw .invalidParameter("Invalid idempotency key: must be at most 255 characters long.")
        }
        if let stored = ledgers[tenant]?.idempotency[key] {
            return try replay(stored, key: key, call: call, parameters: parameters)
        }
        var reply = run(endpoint, call)
        reply.headers.append((name: "Idempotency-Key", value: key))
        if reply.isStorable {
            let stored = FakeStripeLedger.StoredReply(
                method: call.method,
                path: call.path,
                parameters: Self.normalized(parameters),
                reply: reply
            )
            ledgers[tenant, default: FakeStripeLedger()].idempotency[key] = stored
        }
        return reply
    }

    private func replay(
        _ stored: FakeStripeLedger.StoredReply,
        key: String,
        call: FakeStripeCall,
        parameters: PayloadValue
    ) throws(FakeStripeError) -> FakeStripeReply {
        guard stored.method == call.method, stored.path == call.path else {
            throw .api(
                status: 400,
                type: "idempotency_error",
                message: "Keys for idempotent requests can only be used for the same endpoint they were first used "
                    + "for ('\(stored.method) \(stored.path)' vs '\(call.method) \(call.path)'). Try using a key "
                    + "other than '\(key)' if you meant to execute a different request.",
                isStored: false
            )
        }
        guard stored.parameters == Self.normalized(parameters) else {
            throw .api(
                status: 400,
                type: "idempotency_error",
                message: "Keys for idempotent requests can only be used with the same parameters they were first "
                    + "used with. Try using a key other than '\(key)' if you meant to execute a different request.",
                isStored: false
            )
        }
        var reply = stored.reply
        reply.isReplay = true
        reply.headers.append((name: "Idempotent-Replayed", value: "true"))
        reply.headers.append((name: "Original-Request", value: stored.reply.requestID))
        reply.requestID = call.requestID
        return reply
    }

    private mutating func run(_ endpoint: FakeStripeEndpoint, _ call: FakeStripeCall) -> FakeStripeReply {
        do {
            let json: PayloadValue
            switch endpoint {
            case .retrieveOwnAccount: json = try retrieveAccount(call.tenant.accountID, call)
            case .retrieveAccount(let id): json = try retrieveAccount(id, call)
            case .createCustomer: json = try createCustomer(call)
            case .listCustomers: json = try listCustomers(call)
            case .retrieveCustomer(let id): json = try retrieveCustomer(id, call)
            case .listEvents: json = try listEvents(call)
            case .retrieveEvent(let id): json = try retrieveEvent(id, call)
            case .setSecret: json = try setSecret(call)
            case .listSecrets: json = try listSecrets(call)
            case .findSecret: json = try findSecret(call)
            case .deleteSecret: json = try deleteSecret(call)
            case .oauthToken: json = try exchangeOAuthToken(call)
            }
            return FakeStripeReply(json: json, requestID: call.requestID)
        } catch {
            return FakeStripeReply(error: error, requestID: call.requestID)
        }
    }

    /// The parameters with every object's keys sorted, so key order does not count as a difference.
    private static func normalized(_ value: PayloadValue) -> PayloadValue {
        switch value {
        case .object(let fields):
            return .object(fields.map { PayloadField($0.key, normalized($0.value)) }.sorted { $0.key < $1.key })
        case .array(let values): return .array(values.map(normalized))
        default: return value
        }
    }
}
