/// Walks the elements of a `Stripe-Signature` value without allocating.
///
/// ``SignatureHeader/parse(_:)`` and the verifier's fast path share it, so both apply the same rules.
enum HeaderScanner {
    /// Reads the single `t` and counts the `v1` elements.
    ///
    /// - Returns: The timestamp and the number of `v1` elements, or the error the header deserves.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<(timestamp: Int64, v1Count: Int), SignatureError> {
        guard !bytes.isEmpty else { return .failure(SignatureError(.missingHeader)) }
        var timestamp: Int64?
        var v1Count = 0
        var failure: SignatureError?
        forEachElement(of: bytes) { key, value in
            if isTimestampKey(key) {
                guard let value else {
                    failure = malformed("The t element has no value.")
                    return false
                }
                guard timestamp == nil else {
                    failure = malformed("The header has more than one t element.")
                    return false
                }
                guard let parsed = parseTimestamp(value) else {
                    failure = malformed("The t element is not a whole number of seconds.")
                    return false
                }
                timestamp = parsed
            } else if value != nil, isV1Key(key) {
                v1Count += 1
            }
            return true
        }
        if let failure { return .failure(failure) }
        guard let timestamp else { return .failure(malformed("The header has no t element.")) }
        guard v1Count > 0 else { return .failure(SignatureError(.noSignatureWithExpectedScheme)) }
        return .success((timestamp, v1Count))
    }

    /// Calls `body` with the value of every `v1` element, in order.
    static func forEachV1(in bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        forEachElement(of: bytes) { key, value in
            if let value, isV1Key(key) { body(value) }
            return true
        }
    }

    /// Whether any `v1` element satisfies `predicate`; stops at the first that does.
    static func containsV1(in bytes: UnsafeBufferPointer<UInt8>, where predicate: (UnsafeBufferPointer<UInt8>) -> Bool)
        -> Bool
    {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
            if end - start > 3, bytes[start] == UInt8(ascii: "v"), bytes[start + 1] == UInt8(ascii: "1"),
                bytes[start + 2] == UInt8(ascii: "="),
                predicate(UnsafeBufferPointer(rebasing: bytes[(start + 3)..<end]))
            {
                return true
            }
            start = end + 1
        }
        return false
    }

    /// Splits on `,` and then on the first `=`, with no trimming; `body` returns `false` to stop.
    private static func forEachElement(
        of bytes: UnsafeBufferPointer<UInt8>,
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>?) -> Bool
    ) {
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
            let element = UnsafeBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            if let equals = element.firstIndex(of: UInt8(ascii: "=")) {
                let key = UnsafeBufferPointer(rebasing: element[..<equals])
                guard body(key, UnsafeBufferPointer(rebasing: element[(equals + 1)...])) else { return }
            } else if !element.isEmpty {
                guard body(element, nil) else { return }
            }
        }
    }

    private static func isTimestampKey(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        key.count == 1 && key[0] == UInt8(ascii: "t")
    }

    private static func isV1Key(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        key.count == 2 && key[0] == UInt8(ascii: "v") && key[1] == UInt8(ascii: "1")
    }

    /// ASCII digits only; leading zeros are allowed and dropped, as the Stripe libraries sign the integer.
    private static func parseTimestamp(_ digits: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    private static func malformed(_ message: String) -> SignatureError {
        SignatureError(.malformedHeader, message: message)
    }
}
