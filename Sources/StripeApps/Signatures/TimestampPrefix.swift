/// The bytes `"<decimal timestamp>."` that precede the payload in the signed message.
///
/// Built on the stack, so computing a MAC allocates nothing for the prefix. An `Int64` needs at most
/// 20 characters with its sign, plus the dot: 24 bytes of storage are enough.
struct TimestampPrefix {
    private var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private let count: Int

    init(_ timestamp: Int64) {
        // Digits are produced from the least significant end, so write them right-aligned and move them.
        count = withUnsafeMutableBytes(of: &storage) { buffer in
            var position = buffer.count - 1
            buffer[position] = UInt8(ascii: ".")
            var value = timestamp.magnitude
            repeat {
                position -= 1
                buffer[position] = UInt8(truncatingIfNeeded: value % 10) + UInt8(ascii: "0")
                value /= 10
            } while value > 0
            if timestamp < 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "-")
            }
            let length = buffer.count - position
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[position...]))
            return length
        }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }
}
