import StripeApps

/// Reads Stripe's error answers into a ``StripeAPIError``.
///
/// API errors are `{"error":{"type","code","decline_code","message","param","doc_url",…}}`; the OAuth token
/// endpoint answers `{"error":"invalid_grant","error_description":"…"}` instead.
enum ErrorBody {
    static func decode(status: Int, body: [UInt8], requestID: String?) -> StripeAPIError {
        let json = try? PayloadValue.parse(body, maximumDepth: 16)
        if let error = json?["error"], case .object = error {
            let type = error["type"]?.stringValue
            return StripeAPIError(
                code(status: status, type: type),
                message: error["message"]?.stringValue ?? "The Stripe API answered \(status).",
                httpStatus: status,
                type: type,
                stripeCode: error["code"]?.stringValue,
                declineCode: error["decline_code"]?.stringValue,
                param: error["param"]?.stringValue,
                requestID: requestID,
                docURL: error["doc_url"]?.stringValue
            )
        }
        if let oauthError = json?["error"]?.stringValue {
            return StripeAPIError(
                status >= 500 ? .server : .oauth,
                message: json?["error_description"]?.stringValue ?? "The OAuth request failed.",
                httpStatus: status,
                stripeCode: oauthError,
                requestID: requestID
            )
        }
        return StripeAPIError(
            code(status: status, type: nil),
            message: "The Stripe API answered \(status) without an error body.",
            httpStatus: status,
            requestID: requestID
        )
    }

    private static func code(status: Int, type: String?) -> StripeAPIError.Code {
        switch (type, status) {
        case ("idempotency_error", _): return .idempotency
        case ("card_error", _), (_, 402): return .card
        case (_, 401): return .authentication
        case (_, 403): return .permission
        case (_, 429): return .rateLimited
        case (_, 500...): return .server
        case ("api_error", _): return .server
        default: return .invalidRequest
        }
    }
}

extension StripeAPIError {
    /// The error an answer with this status and body decodes to (for tests and fakes).
    package static func decoding(status: Int, body: [UInt8], requestID: String? = nil) -> StripeAPIError {
        ErrorBody.decode(status: status, body: body, requestID: requestID)
    }
}
