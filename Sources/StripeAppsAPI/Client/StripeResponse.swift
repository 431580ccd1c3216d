public import StripeApps

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A successful (2xx) answer from the Stripe API.
public struct StripeResponse: Sendable {
    /// The HTTP status.
    public let status: Int
    /// Stripe's `Request-Id`.
    public let requestID: String?
    /// Whether Stripe replayed a stored answer for the idempotency key (`Idempotent-Replayed: true`).
    public let isIdempotentReplay: Bool
    /// The raw body.
    public let body: [UInt8]

    /// The body as JSON that keeps key order: the escape hatch for fields no model covers.
    public func json() throws(StripeAPIError) -> PayloadValue {
        do {
            return try PayloadValue.parse(body, maximumDepth: 64)
        } catch {
            throw StripeAPIError(.invalidResponse, message: "The answer is not JSON.", requestID: requestID)
        }
    }

    /// The body decoded as `type`.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws(StripeAPIError) -> T {
        try Self.decode(type, from: body, requestID: requestID)
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], requestID: String?) throws(StripeAPIError)
        -> T
    {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw StripeAPIError(
                .invalidResponse,
                message: "The answer does not decode as \(type): \(Self.describe(error))",
                requestID: requestID
            )
        }
    }

    /// The coding path and reason of a decoding error, without the data.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "malformed JSON" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        @unknown default:
            return "malformed JSON"
        }
    }
}
