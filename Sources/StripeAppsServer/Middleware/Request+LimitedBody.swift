import Hummingbird
import NIOCore
import StripeApps

extension Request {
    /// Reads the whole body, refusing more than `limit` bytes with 413 `payload_too_large` before anything
    /// hashes or parses it; a `Content-Length` over the limit is refused without reading at all. A body that
    /// cannot be read (a malformed chunked encoding, say) is the client's fault: 400 `invalid_body`, not a 500.
    mutating func collectBody(limitedTo limit: Int) async throws -> ByteBuffer {
        let tooLarge = APIError(
            SignatureError(.payloadTooLarge, message: "The body is larger than the limit of \(limit) bytes.")
        )
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
        do {
            return try await collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch let error where !(error is CancellationError) {
            throw APIError.badRequest(
                "invalid_body",
                "The request body could not be read: send it whole, with a valid Content-Length or chunked encoding.")
        }
    }
}
