public import NIOHTTP1
public import StripeApps

/// A Stripe API client bound to one tenant: every call acts on the tenant's account, in the tenant's mode.
///
/// Get one from ``StripeAPI/client(for:)`` (platform apps), ``OAuthTokens/client(for:)`` (OAuth apps) or
/// ``StripeAPI/client(for:restrictedKey:)``. Resources hang off it (``customers``, ``events``, ``secrets``,
/// ``account``); ``get(_:_:)``, ``post(_:_:idempotencyKey:)`` and ``delete(_:_:)`` reach any other endpoint.
public struct StripeClient: Sendable {
    /// The tenant every call acts on.
    public let tenant: Tenant
    /// The kind of credential the calls carry.
    public var credentialKind: APICredential.Kind { credential.kind }
    let credential: APICredential
    /// `Stripe-Account`, for platform apps.
    let stripeAccount: String?
    let transport: StripeTransport

    /// `GET path?parameters`.
    public func get(_ path: String, _ parameters: FormParameters = [:]) async throws -> StripeResponse {
        try await send(.GET, path, parameters, idempotencyKey: nil)
    }

    /// `POST path` with form-encoded parameters and an idempotency key (random unless given), kept across retries.
    public func post(
        _ path: String,
        _ parameters: FormParameters = [:],
        idempotencyKey: IdempotencyKey = .random()
    ) async throws -> StripeResponse {
        try await send(.POST, path, parameters, idempotencyKey: idempotencyKey)
    }

    /// `DELETE path`.
    public func delete(_ path: String, _ parameters: FormParameters = [:]) async throws -> StripeResponse {
        try await send(.DELETE, path, parameters, idempotencyKey: nil)
    }

    /// One call; errors are ``StripeAPIError`` (or `CancellationError` when the task is cancelled).
    public func send(
        _ method: HTTPMethod,
        _ path: String,
        _ parameters: FormParameters = [:],
        idempotencyKey: IdempotencyKey?
    ) async throws -> StripeResponse {
        try checkPath(path)
        return try await transport.send(
            StripeTransport.Call(
                method: method,
                path: path,
                parameters: parameters,
                authorization: credential.authorization,
                stripeAccount: stripeAccount,
                idempotencyKey: method == .POST ? (idempotencyKey ?? .random()) : nil
            )
        )
    }

    /// Refuses paths that could leave the tenant: anything but `/v1/…` on the configured host, and
    /// `/v1/accounts/<another account>`, which acts on that account as `Stripe-Account` would.
    private func checkPath(_ path: String) throws(StripeAPIError) {
        let allowed = path.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"),
                UInt8(ascii: "."):
                return true
            default:
                return false
            }
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        // "/v1/customers" splits into ["", "v1", "customers"]: only the first segment may be empty.
        guard allowed, path.hasPrefix("/v1/"),
            !segments.dropFirst().contains(where: { $0.isEmpty || $0 == ".." || $0 == "." })
        else {
            throw StripeAPIError(.invalidCall, message: "A Stripe API path looks like /v1/customers/cus_123.")
        }
        if segments.count > 3, segments[2] == "accounts", segments[3] != tenant.accountID {
            throw StripeAPIError(
                .tenantMismatch,
                message: "This client is bound to \(tenant.accountID) and cannot call /v1/accounts/\(segments[3])."
            )
        }
    }
}
