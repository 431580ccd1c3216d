public import StripeApps

extension PayloadValue {
    /// The object with `key` set to `value`: replaced in place when present, else appended (anything but an
    /// object is returned as it is).
    ///
    /// ```swift
    /// let customer = StripeFixtures.object("customer")!.setting("email", .string("jenny@example.com"))
    /// ```
    public func setting(_ key: String, _ value: PayloadValue) -> PayloadValue {
        guard case .object(var fields) = self else { return self }
        if let index = fields.firstIndex(where: { $0.key == key }) {
            fields[index].value = value
        } else {
            fields.append(PayloadField(key, value))
        }
        return .object(fields)
    }

    /// The object with `key` set to `value`, placed right after `anchor` when `key` is not there yet.
    func setting(_ key: String, _ value: PayloadValue, after anchor: String) -> PayloadValue {
        guard case .object(var fields) = self else { return self }
        if let index = fields.firstIndex(where: { $0.key == key }) {
            fields[index].value = value
        } else if let index = fields.firstIndex(where: { $0.key == anchor }) {
            fields.insert(PayloadField(key, value), at: index + 1)
        } else {
            fields.append(PayloadField(key, value))
        }
        return .object(fields)
    }

    /// The object without `key`.
    func removing(_ key: String) -> PayloadValue {
        guard case .object(let fields) = self else { return self }
        return .object(fields.filter { $0.key != key })
    }

    /// A timestamp or other integer as a JSON number.
    static func integer(_ value: Int64) -> PayloadValue {
        .number(Double(value))
    }

    /// A string, or `null` when `nil`.
    static func optional(_ value: String?) -> PayloadValue {
        value.map { .string($0) } ?? .null
    }
}
