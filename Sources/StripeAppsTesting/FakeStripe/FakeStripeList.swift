import StripeApps

/// Stripe's cursor pagination over one kind of object.
///
/// Lists are newest first: by `created`, then by insertion order. `starting_after=id` returns the objects that
/// follow (are older than) `id`; `ending_before=id` returns the `limit` objects immediately preceding (newer than)
/// `id`, still newest first. A cursor is placed by its sort key, so it may name an object that the list's filters
/// leave out, as with Stripe.
struct FakeStripeList {
    /// One listable object.
    struct Entry: Sendable {
        /// The object's id, usable as a cursor.
        var id: String
        /// Its `created` timestamp.
        var created: Int64
        /// The fake's insertion counter, breaking ties between equal `created` values.
        var sequence: Int
        /// The JSON of the object as the list shows it.
        var object: PayloadValue

        /// Whether `self` sorts before (is newer than) `other`'s key.
        func isNewer(than key: (Int64, Int)) -> Bool {
            (created, sequence) > key
        }
    }

    /// The list's `url`, such as `/v1/customers`.
    var url: String
    /// The object name in a bad-cursor message, such as `customer`.
    var resource: String
    /// The sort keys of every object of this kind in the account, filtered or not, by id.
    var cursors: [String: (Int64, Int)]

    /// A list whose cursors may name any of `all`, the account's objects of this kind before filtering.
    init(url: String, resource: String, all: [Entry]) {
        self.url = url
        self.resource = resource
        var cursors: [String: (Int64, Int)] = [:]
        for entry in all { cursors[entry.id] = (entry.created, entry.sequence) }
        self.cursors = cursors
    }

    /// Reads `limit`, `starting_after` and `ending_before` and returns the list object for `entries`.
    func page(of entries: [Entry], parameters: FakeStripeParameters) throws(FakeStripeError) -> PayloadValue {
        let limit = try parameters.integer("limit") ?? 10
        guard (1...100).contains(limit) else {
            throw .invalidParameter(
                "Invalid limit: must be at least 1 and at most 100.",
                code: "parameter_invalid_integer",
                param: "limit"
            )
        }
        let startingAfter = try parameters.string("starting_after").flatMap { $0.isEmpty ? nil : $0 }
        let endingBefore = try parameters.string("ending_before").flatMap { $0.isEmpty ? nil : $0 }
        if startingAfter != nil, endingBefore != nil { throw .exclusive("starting_after", "ending_before") }

        let sorted = entries.sorted { ($0.created, $0.sequence) > ($1.created, $1.sequence) }
        let count = Int(limit)
        let slice: ArraySlice<Entry>
        let hasMore: Bool
        if let startingAfter {
            let key = try cursor(startingAfter, param: "starting_after")
            let older = sorted.filter { !$0.isNewer(than: key) && ($0.created, $0.sequence) != key }
            slice = older.prefix(count)
            hasMore = older.count > count
        } else if let endingBefore {
            let key = try cursor(endingBefore, param: "ending_before")
            let newer = sorted.filter { $0.isNewer(than: key) }
            slice = newer.suffix(count)
            hasMore = newer.count > count
        } else {
            slice = sorted.prefix(count)
            hasMore = sorted.count > count
        }
        return .object([
            PayloadField("object", .string("list")),
            PayloadField("data", .array(slice.map(\.object))),
            PayloadField("has_more", .bool(hasMore)),
            PayloadField("url", .string(url)),
        ])
    }

    private func cursor(_ id: String, param: String) throws(FakeStripeError) -> (Int64, Int) {
        guard let key = cursors[id] else {
            throw .api(
                status: 400,
                type: "invalid_request_error",
                code: "resource_missing",
                message: "No such \(resource): '\(id)'",
                param: param,
                isStored: false
            )
        }
        return key
    }
}
