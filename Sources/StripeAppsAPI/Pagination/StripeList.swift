public import StripeApps

/// One page of a Stripe list (`{"object":"list","data":[…],"has_more":…}`).
public struct StripeList<Element: Sendable>: Sendable {
    /// The items of this page, in Stripe's order (newest first).
    public let data: [Element]
    /// Whether more items follow.
    public let hasMore: Bool
    /// The ids of the items, for the next page's cursor.
    let ids: [String]

    /// Reads a page, decoding each item with `decodeItem`.
    static func read(
        _ response: StripeResponse,
        decodeItem: (PayloadValue) throws -> Element
    ) throws -> StripeList {
        let json = try response.json()
        guard case .array(let items)? = json["data"], case .bool(let hasMore)? = json["has_more"] else {
            throw StripeAPIError(.invalidResponse, message: "The answer is not a list.", requestID: response.requestID)
        }
        var data: [Element] = []
        var ids: [String] = []
        for item in items {
            guard let id = item["id"]?.stringValue else {
                throw StripeAPIError(.invalidResponse, message: "A list item has no id.", requestID: response.requestID)
            }
            ids.append(id)
            data.append(try decodeItem(item))
        }
        return StripeList(data: data, hasMore: hasMore, ids: ids)
    }
}

extension StripeClient {
    /// One page of the list at `path` (`limit`, `starting_after`, `ending_before` and filters as parameters).
    public func list<Element: Decodable & Sendable>(
        _ path: String,
        _ parameters: FormParameters = [:],
        as type: Element.Type = Element.self
    ) async throws -> StripeList<Element> {
        let response = try await get(path, parameters)
        return try StripeList.read(response) { item throws(StripeAPIError) in
            try StripeResponse.decode(type, from: Array(item.jsonString.utf8), requestID: response.requestID)
        }
    }

    /// Every item of the list at `path`, page after page, as an `AsyncSequence` that fetches lazily.
    ///
    /// Items come newest first; when `parameters` contain `ending_before`, pages are walked backwards and items
    /// come oldest first, as in Stripe's SDKs.
    public func autoPaging<Element: Decodable & Sendable>(
        _ path: String,
        _ parameters: FormParameters = [:],
        as type: Element.Type = Element.self
    ) -> AutoPagingSequence<Element> {
        AutoPagingSequence(client: self, path: path, parameters: parameters) { item, requestID throws(StripeAPIError) in
            try StripeResponse.decode(type, from: Array(item.jsonString.utf8), requestID: requestID)
        }
    }

    /// Every item of the list at `path` as raw JSON, for objects no model covers.
    public func autoPagingJSON(_ path: String, _ parameters: FormParameters = [:]) -> AutoPagingSequence<PayloadValue> {
        AutoPagingSequence(client: self, path: path, parameters: parameters) { item, _ in item }
    }
}
