/// An error from a call to the Stripe API: an error answer from Stripe, or a failure before one arrived.
///
/// The ``code`` says what kind of failure it is and is stable; the other properties carry Stripe's details
/// when Stripe answered. Equality compares codes only. Neither ``description`` nor ``message`` ever contains
/// an API key or token: Stripe masks keys in its messages, and anything that still looks like one is
/// replaced by `[redacted]` before it gets here. A route answers it as 502 `stripe_api_error` with this code in
/// `stripe_error`; the causes and fixes of each code: `Docs/troubleshooting.md`.
public struct StripeAPIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// Stripe refused the parameters (`invalid_request_error`, HTTP 400 or 404).
        public static let invalidRequest = Code("invalid_request")
        /// The key or token was missing, unknown, revoked or expired (HTTP 401).
        public static let authentication = Code("authentication")
        /// The credential may not do this, or may not act on this account (HTTP 403).
        public static let permission = Code("permission")
        /// A card was declined (`card_error`, HTTP 402).
        public static let card = Code("card")
        /// An idempotency key was reused with other parameters (`idempotency_error`).
        public static let idempotency = Code("idempotency")
        /// Too many requests, or lock contention (`lock_timeout`), after every retry (HTTP 429).
        public static let rateLimited = Code("rate_limited")
        /// Stripe failed (`api_error`, HTTP 5xx), after every retry.
        public static let server = Code("server")
        /// The OAuth token endpoint refused a grant (`invalid_grant`, `invalid_client`, …).
        public static let oauth = Code("oauth")
        /// No answer: the connection failed or closed, after every retry.
        public static let connection = Code("connection")
        /// No answer within the time-out, after every retry.
        public static let timeout = Code("timeout")
        /// The answer was not the JSON expected, or too large.
        public static let invalidResponse = Code("invalid_response")
        /// No credential is configured for the tenant (for example no secret key for its mode); nothing was sent.
        public static let missingCredential = Code("missing_credential")
        /// The credential belongs to the other mode or another account than the tenant; nothing was sent.
        public static let tenantMismatch = Code("tenant_mismatch")
        /// The call itself is invalid (a malformed path, an idempotency key over 255 characters); nothing was sent.
        public static let invalidCall = Code("invalid_call")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public let code: Code
    /// The HTTP status of Stripe's answer, when there was one.
    public var httpStatus: Int?
    /// Stripe's `error.type` (`invalid_request_error`, `card_error`, `api_error`, `idempotency_error`, …).
    public var type: String?
    /// Stripe's `error.code` (`resource_missing`, `lock_timeout`, …), or the OAuth `error` (`invalid_grant`).
    public var stripeCode: String?
    /// Stripe's `error.decline_code` for declined cards.
    public var declineCode: String?
    /// Stripe's `error.param`: the parameter at fault.
    public var param: String?
    /// A human-readable message, with anything that looks like a key or token redacted.
    public var message: String
    /// Stripe's `Request-Id`, to quote to Stripe support.
    public var requestID: String?
    /// Stripe's `error.doc_url`.
    public var docURL: String?

    /// Creates an error.
    public init(
        _ code: Code,
        message: String,
        httpStatus: Int? = nil,
        type: String? = nil,
        stripeCode: String? = nil,
        declineCode: String? = nil,
        param: String? = nil,
        requestID: String? = nil,
        docURL: String? = nil
    ) {
        self.code = code
        self.message = CredentialRedaction.redact(message)
        self.httpStatus = httpStatus
        self.type = type
        self.stripeCode = stripeCode
        self.declineCode = declineCode
        self.param = param
        self.requestID = requestID
        self.docURL = docURL
    }

    public var description: String {
        var parts = ["\(code)"]
        if let httpStatus { parts.append("status=\(httpStatus)") }
        if let stripeCode { parts.append("stripe_code=\(stripeCode)") }
        if let declineCode { parts.append("decline_code=\(declineCode)") }
        if let param { parts.append("param=\(param)") }
        if let requestID { parts.append("request_id=\(requestID)") }
        return parts.joined(separator: " ") + ": " + message
    }

    public static func == (lhs: StripeAPIError, rhs: StripeAPIError) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
