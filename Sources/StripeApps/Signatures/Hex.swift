/// Lowercase hexadecimal encoding and strict decoding.
///
/// Written here because swift-crypto keeps its hex helpers internal and Foundation has none; both
/// directions are a few lines and sit on the hot path of every verification.
enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Encodes bytes as lowercase hex.
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The value of one lowercase hex digit, or `nil` for anything else (uppercase included).
    @inline(__always)
    static func value(ofLowercaseDigit byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        default: nil
        }
    }

    /// Decodes exactly `byteCount` bytes from `2 * byteCount` lowercase hex digits and appends them to
    /// `output`; returns `false` (appending nothing) when the input has another length or another character.
    static func decodeLowercase(
        _ input: UnsafeBufferPointer<UInt8>,
        byteCount: Int,
        appendingTo output: inout [UInt8]
    ) -> Bool {
        guard input.count == byteCount * 2 else { return false }
        let start = output.count
        var index = 0
        while index < input.count {
            guard let high = value(ofLowercaseDigit: input[index]),
                let low = value(ofLowercaseDigit: input[index + 1])
            else {
                output.removeSubrange(start...)
                return false
            }
            output.append(high << 4 | low)
            index += 2
        }
        return true
    }
}
