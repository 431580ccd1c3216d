/// Random Stripe-looking identifiers, and the masking of keys in error messages.
enum FakeStripeIdentifiers {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// `prefix` followed by `length` random letters and digits, such as `cus_QXg1o8vcGmoR32`.
    static func make(_ prefix: String, length: Int = 14) -> String {
        var generator = SystemRandomNumberGenerator()
        var result = prefix
        for _ in 0..<length {
            result.append(alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))])
        }
        return result
    }

    /// Masks a key the way Stripe's messages do: `sk_test_****abcd`.
    ///
    /// The `xx_test_`/`xx_live_` prefix stays; the last four characters stay only when at least eight characters
    /// follow the prefix, so short keys are never revealed whole.
    static func mask(_ key: String) -> String {
        var prefix = ""
        let parts = key.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, parts[1] == "test" || parts[1] == "live", parts[0].count <= 6,
            parts[0].allSatisfy({ $0.isLetter && $0.isASCII })
        {
            prefix = "\(parts[0])_\(parts[1])_"
        }
        let rest = key.dropFirst(prefix.count)
        guard rest.count >= 8 else { return prefix + "****" }
        return prefix + "****" + rest.suffix(4)
    }
}
