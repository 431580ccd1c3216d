/// The fake Stripe server could not start or serve.
public struct FakeStripeServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let message: String

    /// A sentence describing the failure.
    public var description: String { message }
}
