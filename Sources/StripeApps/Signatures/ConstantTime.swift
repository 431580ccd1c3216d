package import Crypto

/// Constant-time comparison of a computed SHA-256 MAC with a candidate.
///
/// swift-crypto's `Digest == DataProtocol` is constant-time too, but it is generic and unspecialized
/// across the module boundary, and on the verifier's hot path its dispatch cost more than the hash.
/// This is the same comparison: every byte is visited, differences are OR-ed together, and the only
/// branch is on the final result. Tests check that it agrees with swift-crypto's `==`.
package enum ConstantTime {
    /// Whether `mac` equals the 32 bytes that `hex` (64 lowercase hex digits) encodes.
    ///
    /// A candidate of the wrong length or with other characters is rejected before any byte of the MAC is
    /// read, so timing depends only on the attacker-chosen input, never on the MAC.
    package static func isEqual(_ mac: SHA256Digest, hex: UnsafeBufferPointer<UInt8>) -> Bool {
        guard hex.count == 2 * SHA256Digest.byteCount else { return false }
        var candidate: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let decoded = withUnsafeMutableBytes(of: &candidate) { bytes in
            var index = 0
            while index < SHA256Digest.byteCount {
                guard let high = Hex.value(ofLowercaseDigit: hex[2 * index]),
                    let low = Hex.value(ofLowercaseDigit: hex[2 * index + 1])
                else { return false }
                bytes[index] = high << 4 | low
                index += 1
            }
            return true
        }
        guard decoded else { return false }
        return withUnsafeBytes(of: candidate) { isEqual(mac, bytes: $0) }
    }

    /// Whether `mac` equals `bytes`; `false` when the lengths differ.
    package static func isEqual(_ mac: SHA256Digest, bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == SHA256Digest.byteCount else { return false }
        return mac.withUnsafeBytes { computed in
            var difference: UInt8 = 0
            for index in 0..<SHA256Digest.byteCount {
                difference |= computed[index] ^ bytes[index]
            }
            return difference == 0
        }
    }

    /// Whether two strings have the same UTF-8 bytes, visiting every byte when the lengths agree (the length is
    /// not secret: cookies, bearer tokens and user ids compared with it have their length on the wire already).
    package static func isEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
