import Hummingbird
import NIOCore
import StripeApps

extension Request {
    /// Reads the whole body, refusing more than `limit` bytes with 413 `payload_too_large` before anything
    /// hashes or parses it; a `Content-Length` over the limit is refused without reading at all.
    mutating func collectBody(limitedTo limit: Int) async throws -> ByteBuffer {
        let tooLarge = APIError(
            SignatureError(.payloadTooLarge, message: "The body is larger than the limit of \(limit) bytes.")
        )
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
        do {
            return try await collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
    }
}
