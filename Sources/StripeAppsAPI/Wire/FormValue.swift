import StripeApps

/// A parameter value of a Stripe API call, form-encoded the way Stripe expects.
///
/// Stripe takes `application/x-www-form-urlencoded` parameters with nested keys: objects become
/// `metadata[plan]=pro`, arrays of scalars `expand[]=payload`, arrays of objects `items[0][price]=price_1`.
/// Literals make calls read naturally:
///
/// ```swift
/// let parameters: FormParameters = [
///     "email": "jenny@example.com",
///     "metadata": ["plan": "pro", "seats": 3],
///     "expand": ["tax"],
/// ]
/// ```
///
/// An empty string is sent as `key=`, which is how Stripe unsets a field (`metadata[plan]=` deletes the key).
public indirect enum FormValue: Sendable, Hashable {
    /// A string.
    case string(String)
    /// An integer.
    case integer(Int64)
    /// `true` or `false`.
    case bool(Bool)
    /// An array: `key[]=…` for scalars, `key[0][field]=…` for objects and arrays.
    case array([FormValue])
    /// An object, whose fields keep their order: `key[field]=…`.
    case object(FormParameters)
}

extension FormValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: FormValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, FormValue)...) {
        self = .object(FormParameters(elements))
    }
}

/// The ordered parameters of a call; see ``FormValue``.
public struct FormParameters: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// The fields, in order.
    public private(set) var fields: [Field]

    /// One parameter.
    public struct Field: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: FormValue

        /// Creates a field.
        public init(_ key: String, _ value: FormValue) {
            self.key = key
            self.value = value
        }
    }

    /// No parameters.
    public init() {
        self.fields = []
    }

    /// Parameters from key–value pairs, in order.
    public init(_ pairs: [(String, FormValue)]) {
        self.fields = pairs.map { Field($0.0, $0.1) }
    }

    public init(dictionaryLiteral elements: (String, FormValue)...) {
        self.init(elements)
    }

    /// Whether there are no parameters.
    public var isEmpty: Bool { fields.isEmpty }

    /// The value of `key`, or `nil`; setting replaces the first field with that key or appends one.
    public subscript(key: String) -> FormValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            let index = fields.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): fields[index].value = value
            case (let index?, nil): fields.remove(at: index)
            case (nil, let value?): fields.append(Field(key, value))
            case (nil, nil): break
            }
        }
    }

    /// The flattened `(key, value)` pairs, before percent-encoding: `[("metadata[plan]", "pro")]`.
    public var pairs: [(key: String, value: String)] {
        var output: [(key: String, value: String)] = []
        for field in fields {
            Self.flatten(field.value, key: field.key, into: &output)
        }
        return output
    }

    /// The `application/x-www-form-urlencoded` text: everything but RFC 3986's unreserved characters is
    /// percent-encoded, brackets included, as stripe-python does.
    public var encoded: String {
        pairs.map { "\(URLComponentEncoding.encode($0.key))=\(URLComponentEncoding.encode($0.value))" }.joined(
            separator: "&")
    }

    private static func flatten(_ value: FormValue, key: String, into output: inout [(key: String, value: String)]) {
        switch value {
        case .string(let string): output.append((key, string))
        case .integer(let integer): output.append((key, String(integer)))
        case .bool(let bool): output.append((key, bool ? "true" : "false"))
        case .object(let parameters):
            for field in parameters.fields {
                flatten(field.value, key: "\(key)[\(field.key)]", into: &output)
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                switch element {
                case .object, .array: flatten(element, key: "\(key)[\(index)]", into: &output)
                default: flatten(element, key: "\(key)[]", into: &output)
                }
            }
        }
    }
}
