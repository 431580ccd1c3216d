import StripeApps

/// Typed, Stripe-like access to a request's decoded form parameters.
///
/// Every reader throws the error Stripe would give: `parameter_missing`, `parameter_unknown`,
/// `parameter_invalid_integer`, `parameter_invalid_empty` and so on, with `param` naming the parameter the way
/// Stripe does (`scope[type]`).
struct FakeStripeParameters: Sendable {
    /// The fields, in the order they arrived.
    let fields: [PayloadField]
    /// The prefix of nested parameters' names, such as `scope` for `scope[type]`.
    let prefix: String?

    init(_ value: PayloadValue, prefix: String? = nil) {
        if case .object(let fields) = value { self.fields = fields } else { self.fields = [] }
        self.prefix = prefix
    }

    /// The full name of `key`, like `scope[type]`.
    func name(_ key: String) -> String {
        prefix.map { "\($0)[\(key)]" } ?? key
    }

    /// The raw value of `key`.
    subscript(key: String) -> PayloadValue? {
        fields.last { $0.key == key }?.value
    }

    /// Rejects any parameter outside `allowed`, as Stripe does.
    func allowOnly(_ allowed: Set<String>) throws(FakeStripeError) {
        if let stray = fields.first(where: { !allowed.contains($0.key) }) { throw .unknown(name(stray.key)) }
    }

    /// An optional string parameter; objects and arrays are rejected.
    func string(_ key: String) throws(FakeStripeError) -> String? {
        guard let value = self[key] else { return nil }
        guard case .string(let text) = value else {
            throw .invalidParameter("Invalid string: \(value.jsonString)", param: name(key))
        }
        return text
    }

    /// A required, non-empty string parameter.
    func requiredString(_ key: String) throws(FakeStripeError) -> String {
        guard let text = try string(key) else { throw .missing(name(key)) }
        guard !text.isEmpty else { throw .empty(name(key)) }
        return text
    }

    /// An optional integer parameter.
    func integer(_ key: String) throws(FakeStripeError) -> Int64? {
        guard let text = try string(key), !text.isEmpty else { return nil }
        guard let number = Int64(text) else {
            throw .invalidParameter("Invalid integer: \(text)", code: "parameter_invalid_integer", param: name(key))
        }
        return number
    }

    /// An optional boolean parameter (`true` or `false`).
    func boolean(_ key: String) throws(FakeStripeError) -> Bool? {
        guard let text = try string(key), !text.isEmpty else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw .invalidParameter("Invalid boolean: \(text)", param: name(key))
        }
    }

    /// An optional nested object, such as `scope`.
    func object(_ key: String) throws(FakeStripeError) -> FakeStripeParameters? {
        guard let value = self[key] else { return nil }
        guard case .object = value else {
            throw .invalidParameter("Invalid object", param: name(key))
        }
        return FakeStripeParameters(value, prefix: name(key))
    }

    /// An optional array of strings, such as `types[]`; a single string counts as a one-element array.
    func strings(_ key: String) throws(FakeStripeError) -> [String]? {
        guard let value = self[key] else { return nil }
        switch value {
        case .string(let text): return text.isEmpty ? [] : [text]
        case .array(let values):
            var result: [String] = []
            for element in values {
                guard case .string(let text) = element else {
                    throw .invalidParameter("Invalid array", param: name(key))
                }
                result.append(text)
            }
            return result
        default: throw .invalidParameter("Invalid array", param: name(key))
        }
    }

    /// The `expand[]` list, checked against what the endpoint can expand.
    func expansions(allowed: Set<String>) throws(FakeStripeError) -> Set<String> {
        let requested = try strings("expand") ?? []
        for path in requested where !allowed.contains(path) {
            throw .invalidParameter("This property cannot be expanded (\(path)).", param: name("expand"))
        }
        return Set(requested)
    }

    /// `metadata[key]=value`: at most 50 keys of up to 40 characters with values of up to 500; an empty
    /// `metadata=` means none.
    func metadata() throws(FakeStripeError) -> [PayloadField] {
        guard let value = self["metadata"] else { return [] }
        var pairs: [PayloadField]
        switch value {
        case .string(let text) where text.isEmpty: return []
        case .object(let fields): pairs = fields
        case .array(let values): pairs = values.enumerated().map { PayloadField(String($0.offset), $0.element) }
        default: throw .invalidParameter("Invalid hash", param: name("metadata"))
        }
        guard pairs.count <= 50 else {
            throw .invalidParameter("You can have at most 50 metadata keys.", param: name("metadata"))
        }
        for pair in pairs {
            let param = name("metadata") + "[\(pair.key)]"
            guard case .string(let text) = pair.value else { throw .invalidParameter("Invalid string", param: param) }
            guard pair.key.count <= 40 else {
                throw .invalidParameter("Metadata keys can have up to 40 characters.", param: param)
            }
            guard text.count <= 500 else {
                throw .invalidParameter("Metadata values can have up to 500 characters.", param: param)
            }
        }
        // Stripe drops keys set to the empty string.
        pairs.removeAll { $0.value == .string("") }
        return pairs
    }
}
