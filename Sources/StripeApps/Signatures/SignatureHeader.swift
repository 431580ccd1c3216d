/// A parsed `Stripe-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.
///
/// The same format signs UI-extension requests, webhooks and (URL-decoded) `install_signature` values.
///
/// Parsing follows Stripe's libraries where they agree and is stricter where they do not:
/// - elements are split on `,` and then on the first `=`, with no trimming, so `", v1=…"` is ignored;
/// - exactly one `t`, made of ASCII digits (leading zeros allowed, signed as the integer value);
///   a second `t` is rejected because stripe-python uses the first and stripe-node the last;
/// - every `v1` is kept when it is exactly 64 lowercase hex digits, and decoded to bytes; other `v1`
///   values can never match; `v0` and unknown schemes are ignored.
public struct SignatureHeader: Sendable, Hashable, CustomStringConvertible {
    /// The signing time in Unix seconds (`t`).
    public let timestamp: Int64
    /// The decoded `v1` MACs, 32 bytes each, stored back to back.
    let macBytes: [UInt8]
    /// How many `v1` elements the header had, usable or not.
    public let v1ElementCount: Int

    static let macByteCount = 32

    /// Creates a header from a timestamp and the `v1` MACs to send, one per active secret.
    ///
    /// - Parameters:
    ///   - timestamp: The signing time in Unix seconds.
    ///   - signatures: The raw 32-byte MACs, in the order they should appear.
    public init(timestamp: Int64, signatures: [[UInt8]]) {
        self.timestamp = timestamp
        self.macBytes = signatures.flatMap { $0 }
        self.v1ElementCount = signatures.count
    }

    private init(timestamp: Int64, macBytes: [UInt8], v1ElementCount: Int) {
        self.timestamp = timestamp
        self.macBytes = macBytes
        self.v1ElementCount = v1ElementCount
    }

    /// The usable `v1` signatures as raw bytes.
    public var signatures: [[UInt8]] {
        stride(from: 0, to: macBytes.count, by: Self.macByteCount).map {
            Array(macBytes[$0..<$0 + Self.macByteCount])
        }
    }

    /// The header value to send, `t=…,v1=…[,v1=…]`.
    public var headerValue: String {
        (["t=\(timestamp)"] + signatures.map { "v1=" + Hex.encode($0) }).joined(separator: ",")
    }

    /// A redacted summary that omits the signatures, safe for logs.
    public var description: String { "SignatureHeader(t=\(timestamp), \(v1ElementCount) v1, redacted)" }

    /// Parses a `Stripe-Signature` header value.
    ///
    /// - Parameter header: The header value exactly as received. An `install_signature` must be
    ///   URL-decoded first (`t%3D…` is malformed).
    /// - Returns: The parsed header.
    /// - Throws: ``SignatureError`` with ``SignatureError/Code/missingHeader`` for an empty value,
    ///   ``SignatureError/Code/malformedHeader`` when `t` is missing, repeated or not an integer, and
    ///   ``SignatureError/Code/noSignatureWithExpectedScheme`` when there is no `v1` element.
    public static func parse(_ header: String) throws(SignatureError) -> SignatureHeader {
        var header = header
        return try header.withUTF8 { bytes in
            HeaderScanner.scan(bytes).map { scanned in
                var macBytes: [UInt8] = []
                macBytes.reserveCapacity(macByteCount * scanned.v1Count)
                HeaderScanner.forEachV1(in: bytes) { value in
                    _ = Hex.decodeLowercase(value, byteCount: macByteCount, appendingTo: &macBytes)
                }
                return SignatureHeader(
                    timestamp: scanned.timestamp, macBytes: macBytes, v1ElementCount: scanned.v1Count)
            }
        }.get()
    }

}
