public import StripeApps

/// The tenant's events (`/v1/events`), read as the same ``AppEvent`` the webhook endpoint decodes.
public struct Events: Sendable {
    let client: StripeClient

    /// Retrieves one event.
    public func retrieve(_ id: String) async throws -> AppEvent {
        let response = try await client.get("/v1/events/\(try PathSegment(id))")
        return try Self.event(from: response.json(), requestID: response.requestID)
    }

    /// Every event matching the filters, page after page.
    ///
    /// - Parameters:
    ///   - deliverySuccess: `false` lists events whose webhook delivery has not succeeded yet (the last 30 days).
    ///   - type: Only this type (`type`, which may end in `*`: `customer.*`).
    ///   - types: Only these types (`types[]`).
    ///   - endingBefore: Only events newer than this one; they then come oldest first.
    ///   - limit: The page size (1…100).
    public func all(
        deliverySuccess: Bool? = nil,
        type: String? = nil,
        types: [String] = [],
        endingBefore: String? = nil,
        limit: Int = 100
    ) -> AutoPagingSequence<AppEvent> {
        var parameters: FormParameters = ["limit": .integer(Int64(limit))]
        if let deliverySuccess { parameters["delivery_success"] = .bool(deliverySuccess) }
        if let type { parameters["type"] = .string(type) }
        if !types.isEmpty { parameters["types"] = .array(types.map(FormValue.string)) }
        if let endingBefore { parameters["ending_before"] = .string(endingBefore) }
        return AutoPagingSequence(client: client, path: "/v1/events", parameters: parameters) { item, requestID in
            try Self.event(from: item, requestID: requestID)
        }
    }

    static func event(from json: PayloadValue, requestID: String?) throws -> AppEvent {
        do {
            return try AppEvent(json: Array(json.jsonString.utf8))
        } catch {
            throw StripeAPIError(
                .invalidResponse, message: "An event does not decode: \(error.code).", requestID: requestID)
        }
    }
}

extension StripeClient {
    /// The tenant's events.
    public var events: Events { Events(client: self) }
}
