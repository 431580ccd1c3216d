package import Crypto

/// HMAC-SHA256 (RFC 2104) with the key's inner and outer pads absorbed once, per secret.
///
/// swift-crypto's `HMAC<SHA256>` computes exactly this, but the only way to feed it bytes is the generic
/// `update(data:)`, whose unspecialized dispatch across the module boundary costs more than hashing a
/// 100-byte message. `SHA256.update(bufferPointer:)` is public and concrete, so this type keeps the two
/// padded SHA-256 states and copies them per message. The hashing is still swift-crypto's (BoringSSL);
/// tests check every result against `HMAC<SHA256>` byte for byte.
package struct KeyedMAC: Sendable {
    private let inner: SHA256
    private let outer: SHA256

    private static let blockSize = 64

    package init(key: [UInt8]) {
        var block = key.count > Self.blockSize ? Array(SHA256.hash(data: key)) : key
        block += Array(repeating: 0, count: Self.blockSize - block.count)
        var inner = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// The MAC of `prefix` followed by `message`, fed without copying them together.
    package func authenticationCode(_ prefix: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer) -> SHA256Digest
    {
        var hash = inner
        hash.update(bufferPointer: prefix)
        hash.update(bufferPointer: message)
        let innerDigest = hash.finalize()
        var outerHash = outer
        innerDigest.withUnsafeBytes { outerHash.update(bufferPointer: $0) }
        return outerHash.finalize()
    }
}
