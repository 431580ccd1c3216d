#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The `Idempotency-Key` of a POST: Stripe stores the first answer under it and replays it to a retry.
///
/// Every POST gets one. By default it is random, which makes the client's own retries safe. When acting on an
/// event, derive it from the event id and a step name with ``event(_:step:)``: a handler that runs again after a
/// crash or a failure then sends the same key, and Stripe answers with the object it already created instead of
/// creating a second one.
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    /// The header value, at most 255 characters.
    public let rawValue: String

    /// A key from text (1…255 printable ASCII characters).
    public init(_ rawValue: String) throws(StripeAPIError) {
        guard (1...255).contains(rawValue.utf8.count),
            rawValue.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw StripeAPIError(.invalidCall, message: "An idempotency key must be 1…255 printable ASCII characters.")
        }
        self.rawValue = rawValue
    }

    /// A random key (a version 4 UUID), as Stripe recommends.
    public static func random() -> IdempotencyKey {
        IdempotencyKey(unchecked: UUID().uuidString.lowercased())
    }

    /// The key for `step` of the handling of event `eventID`: `evt_123:create-customer`.
    ///
    /// Use one step name per POST a handler makes; the same name twice with other parameters is an
    /// `idempotency_error`.
    public static func event(_ eventID: String, step: String) throws(StripeAPIError) -> IdempotencyKey {
        try IdempotencyKey("\(eventID):\(step)")
    }

    private init(unchecked rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}
