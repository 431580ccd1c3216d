/// A JSON value that keeps the order of object keys, serialized exactly as JavaScript's `JSON.stringify` does.
///
/// Stripe signs the JSON string the UI extension's SDK builds with `JSON.stringify`, so the bytes depend
/// on key order, on number formatting (`100`, never `100.0`) and on escaping (raw UTF-8, no `\u00e9`).
/// Foundation's `JSONSerialization` and `JSONEncoder` keep none of these, which is why this type exists.
public enum PayloadValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number; JavaScript numbers are IEEE doubles, so this is one too.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([PayloadValue])
    /// An object whose fields keep their order.
    case object([PayloadField])

    /// The compact JSON text, byte for byte what `JSON.stringify` produces for the same value.
    public var jsonString: String {
        var output: [UInt8] = []
        write(to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// The object's value for `key`, or `nil` when this is not an object or has no such key.
    public subscript(key: String) -> PayloadValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.key == key }?.value
    }

    /// The string, when this value is one.
    public var stringValue: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    func write(to output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value): output.append(contentsOf: Self.javaScriptNumber(value).utf8)
        case .string(let value): JSONText.appendString(value, to: &output)
        case .array(let values):
            output.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                value.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let fields):
            output.append(UInt8(ascii: "{"))
            for (index, field) in fields.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONText.appendString(field.key, to: &output)
                output.append(UInt8(ascii: ":"))
                field.value.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Formats a double as ECMAScript's `Number.prototype.toString` does (the form `JSON.stringify` uses).
    ///
    /// Swift and JavaScript both print the shortest digits that round-trip; only the layout differs
    /// (`100.0` vs `100`, `1e-07` vs `1e-7`, `1e+16` vs `10000000000000000`).
    static func javaScriptNumber(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == 0 { return "0" }
        let (negative, digits, exponent) = decompose(value)
        let k = digits.count
        let n = exponent
        var result = negative ? "-" : ""
        if k <= n && n <= 21 {
            result += digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            result += digits.prefix(n) + "." + digits.dropFirst(n)
        } else if -6 < n && n <= 0 {
            result += "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            let mantissa = k == 1 ? digits : digits.prefix(1) + "." + digits.dropFirst(1)
            result += mantissa + "e" + (e >= 0 ? "+" : "-") + String(e.magnitude)
        }
        return result
    }

    /// Splits Swift's shortest round-trip text into sign, significant digits and the decimal exponent `n`
    /// such that the value is `0.digits × 10^n`.
    private static func decompose(_ value: Double) -> (Bool, String, Int) {
        var text = value.magnitude.description
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integer = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = integer + fraction
        var n = integer.count + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            n -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (value < 0, digits, n)
    }
}

/// One `"key": value` member of a ``PayloadValue/object(_:)``.
public struct PayloadField: Sendable, Hashable {
    /// The member name.
    public var key: String
    /// The member value.
    public var value: PayloadValue

    /// Creates a member.
    public init(_ key: String, _ value: PayloadValue) {
        self.key = key
        self.value = value
    }
}
