/// An error thrown when a Stripe signature cannot be produced or verified.
///
/// Errors are equal when their codes are equal; match on ``code`` rather than on the message.
/// The ``message`` and `description` never contain a secret, a signature or a payload, so they are
/// safe to log and to return to a client. ``SignatureDiagnosis`` explains a failure in plain words, and
/// `Docs/troubleshooting.md` lists every code with its usual causes and the fix.
public struct SignatureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable reason for a ``SignatureError``.
    ///
    /// New codes may be added in minor releases; switch with a `default` branch.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case missingHeader = "missing_header"
            case malformedHeader = "malformed_header"
            case noSignatureWithExpectedScheme = "no_v1_signature"
            case noMatchingSignature = "no_matching_signature"
            case timestampOutsideTolerance = "timestamp_outside_tolerance"
            case emptySecret = "empty_secret"
            case payloadTooLarge = "payload_too_large"
            case invalidTolerance = "invalid_tolerance"
            case invalidPayload = "invalid_payload"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The `Stripe-Signature` header (or `install_signature` value) is absent or empty.
        public static let missingHeader = Code(.missingHeader)
        /// The header is not a list of `key=value` elements with exactly one integer `t`.
        public static let malformedHeader = Code(.malformedHeader)
        /// The header carries no `v1` element (a `v0` or unknown scheme does not count).
        public static let noSignatureWithExpectedScheme = Code(.noSignatureWithExpectedScheme)
        /// No `v1` in the header matches any secret of the keyring for this payload and timestamp.
        public static let noMatchingSignature = Code(.noMatchingSignature)
        /// The signature is authentic but its timestamp is further from now than the tolerance allows.
        public static let timestampOutsideTolerance = Code(.timestampOutsideTolerance)
        /// A keyring was built with no secret, or with an empty secret string.
        public static let emptySecret = Code(.emptySecret)
        /// The payload is larger than the verifier's limit; no MAC was computed.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// A tolerance of zero or less seconds was requested; the time window cannot be switched off.
        public static let invalidTolerance = Code(.invalidTolerance)
        /// The data to sign cannot form a payload Stripe would sign (for example an empty install `state`).
        public static let invalidPayload = Code(.invalidPayload)

        /// The stable snake_case identifier of the code, e.g. `no_matching_signature`.
        public var description: String { base.rawValue }
    }

    /// Why the signature was rejected.
    public let code: Code
    /// A human-readable explanation that is safe to log: it never contains secrets, signatures or payloads.
    public let message: String

    /// Creates an error with a code and a message.
    ///
    /// - Parameters:
    ///   - code: The stable reason.
    ///   - message: A safe explanation; pass nothing to use the default text for `code`.
    public init(_ code: Code, message: String? = nil) {
        self.code = code
        self.message = message ?? Self.defaultMessage(for: code)
    }

    public var description: String { "\(code): \(message)" }

    public static func == (lhs: SignatureError, rhs: SignatureError) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    private static func defaultMessage(for code: Code) -> String {
        switch code {
        case .missingHeader: "No signature was provided."
        case .malformedHeader: "The signature header could not be parsed; expected t=<unix seconds>,v1=<64 hex digits>."
        case .noSignatureWithExpectedScheme: "The signature header contains no v1 signature."
        case .noMatchingSignature:
            "No signature matches the payload. Check that the exact raw body is verified and that the secret is the "
                + "right one (app signing secret for UI calls and installs, the endpoint's webhook secret for events)."
        case .timestampOutsideTolerance: "The signature timestamp is outside the allowed time window."
        case .emptySecret: "No signing secret is configured, or a configured secret is empty."
        case .payloadTooLarge: "The payload exceeds the size limit."
        case .invalidTolerance: "The tolerance must be at least one second."
        case .invalidPayload: "The payload cannot be signed."
        default: "The signature is invalid."
        }
    }
}
