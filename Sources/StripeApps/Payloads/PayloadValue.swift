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
        var output = ""
        write(to: &output)
        return output
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

    func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let value): output += Self.javaScriptNumber(value)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(to: &output)
            }
            output += "]"
        case .object(let fields):
            output += "{"
            for (index, field) in fields.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(field.key, to: &output)
                output += ":"
                field.value.write(to: &output)
            }
            output += "}"
        }
    }

    /// Escapes like `JSON.stringify`: `"`, `\` and control characters only; everything else stays raw UTF-8.
    static func writeString(_ value: String, to output: inout String) {
        output += "\""
        // Most strings need no escape: appended whole, instead of scalar by scalar.
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else {
            output += value
            output += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
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
