#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Calls `body` with the bytes of `data` in one buffer, copying only when they are not contiguous already.
///
/// The verifier's hot path is then non-generic, which matters more than the hashing for small payloads.
@inlinable
func withContiguousBytes<R>(of data: some DataProtocol, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    if let result = try data.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    return try Array(data).withUnsafeBytes(body)
}
