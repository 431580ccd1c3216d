/// A customer (`cus_…`): the fields this package reads. Use ``StripeResponse/json()`` for the rest.
public struct Customer: Decodable, Sendable, Hashable {
    /// `cus_…`.
    public let id: String
    /// The email address.
    public let email: String?
    /// The full name.
    public let name: String?
    /// The description.
    public let description: String?
    /// The metadata.
    public let metadata: [String: String]
    /// Whether the customer lives in live mode.
    public let livemode: Bool
    /// When it was created (Unix seconds).
    public let created: Int64
}

/// The customers of the client's tenant.
public struct Customers: Sendable {
    let client: StripeClient

    /// Creates a customer: `email`, `name`, `description`, `metadata[…]` and any other parameter Stripe takes.
    public func create(
        _ parameters: FormParameters,
        idempotencyKey: IdempotencyKey = .random()
    ) async throws -> Customer {
        try await client.post("/v1/customers", parameters, idempotencyKey: idempotencyKey).decode()
    }

    /// Retrieves a customer.
    public func retrieve(_ id: String) async throws -> Customer {
        try await client.get("/v1/customers/\(try PathSegment(id))").decode()
    }

    /// One page of customers.
    public func list(_ parameters: FormParameters = [:]) async throws -> StripeList<Customer> {
        try await client.list("/v1/customers", parameters)
    }

    /// Every customer, fetching pages of `limit` as iteration goes.
    public func all(limit: Int = 100, _ parameters: FormParameters = [:]) -> AutoPagingSequence<Customer> {
        var parameters = parameters
        parameters["limit"] = .integer(Int64(limit))
        return client.autoPaging("/v1/customers", parameters)
    }
}

extension StripeClient {
    /// The tenant's customers.
    public var customers: Customers { Customers(client: self) }
}
