extension PayloadValue {
    /// Parses strict JSON (RFC 8259), keeping the order of object members.
    ///
    /// - Parameter bytes: UTF-8 JSON text.
    /// - Parameter maximumDepth: The deepest nesting accepted, to bound the work done on hostile input.
    /// - Returns: The value.
    /// - Throws: ``SignatureError/Code/invalidPayload`` for anything that is not one JSON value, and for an
    ///   object with a repeated key (JavaScript would silently keep one of them).
    public static func parse(_ bytes: some Sequence<UInt8>, maximumDepth: Int = 32) throws(SignatureError)
        -> PayloadValue
    {
        var parser = Parser(bytes: Array(bytes), maximumDepth: maximumDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.isAtEnd else { throw Parser.error("unexpected data after the JSON value") }
        return value
    }

    /// Parses strict JSON text; see ``parse(_:maximumDepth:)``.
    public static func parse(_ text: String) throws(SignatureError) -> PayloadValue {
        try parse(text.utf8)
    }
}

private struct Parser {
    let bytes: [UInt8]
    let maximumDepth: Int
    var index = 0

    init(bytes: [UInt8], maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    var isAtEnd: Bool { index >= bytes.count }

    static func error(_ detail: String) -> SignatureError {
        SignatureError(.invalidPayload, message: "The payload is not valid JSON: \(detail).")
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(SignatureError) -> PayloadValue {
        guard depth <= maximumDepth else { throw Self.error("nested too deeply") }
        guard index < bytes.count else { throw Self.error("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        default: return .number(try parseNumber())
        }
    }

    mutating func expect(_ literal: String) throws(SignatureError) {
        for byte in literal.utf8 {
            guard index < bytes.count, bytes[index] == byte else { throw Self.error("invalid literal") }
            index += 1
        }
    }

    mutating func parseObject(depth: Int) throws(SignatureError) -> PayloadValue {
        index += 1
        var fields: [PayloadField] = []
        var keys: Set<String> = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Self.error("expected a key") }
            let key = try parseString()
            guard keys.insert(key).inserted else { throw Self.error("repeated key") }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Self.error("expected ':'") }
            index += 1
            skipWhitespace()
            fields.append(PayloadField(key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard index < bytes.count else { throw Self.error("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(fields)
            } else {
                throw Self.error("expected ',' or '}'")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(SignatureError) -> PayloadValue {
        index += 1
        var values: [PayloadValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(values)
        }
        while true {
            skipWhitespace()
            values.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw Self.error("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(values)
            } else {
                throw Self.error("expected ',' or ']'")
            }
        }
    }

    mutating func parseString() throws(SignatureError) -> String {
        index += 1
        var string = ""
        var start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                try Self.append(bytes[start..<index], to: &string)
                index += 1
                return string
            }
            if byte < 0x20 { throw Self.error("control character in a string") }
            if byte == UInt8(ascii: "\\") {
                try Self.append(bytes[start..<index], to: &string)
                index += 1
                string.unicodeScalars.append(try parseEscape())
                start = index
                continue
            }
            index += 1
        }
        throw Self.error("unterminated string")
    }

    /// Appends a run of unescaped string bytes, validated as UTF-8 in one pass (no overlong forms, surrogates
    /// or values past U+10FFFF), instead of decoding it scalar by scalar.
    static func append(_ run: ArraySlice<UInt8>, to string: inout String) throws(SignatureError) {
        guard !run.isEmpty else { return }
        guard let text = String(validating: run, as: UTF8.self) else { throw error("invalid UTF-8") }
        if string.isEmpty { string = text } else { string += text }
    }

    mutating func parseEscape() throws(SignatureError) -> Unicode.Scalar {
        guard index < bytes.count else { throw Self.error("unterminated escape") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try parseHex4()
            if (0xD800...0xDBFF).contains(first) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw Self.error("lone surrogate") }
                index += 2
                let second = try parseHex4()
                guard (0xDC00...0xDFFF).contains(second) else { throw Self.error("lone surrogate") }
                let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                guard let scalar = Unicode.Scalar(combined) else { throw Self.error("invalid escape") }
                return scalar
            }
            guard let scalar = Unicode.Scalar(first) else { throw Self.error("lone surrogate") }
            return scalar
        default: throw Self.error("invalid escape")
        }
    }

    mutating func parseHex4() throws(SignatureError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw Self.error("short \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Self.error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func parseNumber() throws(SignatureError) -> Double {
        let start = index
        func digits(_ parser: inout Parser) -> Int {
            let begin = parser.index
            while parser.index < parser.bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index])
            {
                parser.index += 1
            }
            return parser.index - begin
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let leadingZero = index < bytes.count && bytes[index] == UInt8(ascii: "0")
        let integerDigits = digits(&self)
        guard integerDigits > 0, !(leadingZero && integerDigits > 1) else { throw Self.error("invalid number") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw Self.error("invalid number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits(&self) > 0 else { throw Self.error("invalid number") }
        }
        guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)), value.isFinite else {
            throw Self.error("invalid number")
        }
        return value
    }
}
