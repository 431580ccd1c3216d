public import HTTPTypes
public import Hummingbird
import NIOCore
public import StripeApps
public import StripeAppsAPI

/// An error answered as `{"error":{"code":"…","message":"…"}}` with a stable code.
///
/// Messages are written for the developer calling the API and never contain secrets, signatures or payloads. Every
/// code, by what the developer sees (a UI call's 401, a refused webhook, an install page), with its usual causes and
/// the fix, is in `Docs/troubleshooting.md`; in development mode a signature's 401 also carries a `hint`
/// (``withHint(_:)``).
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// The stable, machine-readable code.
    public let code: String
    /// A safe explanation.
    public let message: String
    /// Extra members of the error object, e.g. `current_version` on a conflict.
    public let details: [PayloadField]
    /// Extra response headers, e.g. `Allow` on a 405.
    public let headers: HTTPFields

    /// Creates an error.
    public init(
        _ status: HTTPResponse.Status,
        code: String,
        message: String,
        details: [PayloadField] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [PayloadField] = [PayloadField("code", .string(code)), PayloadField("message", .string(message))]
        error += details
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let body = PayloadValue.object([PayloadField("error", .object(error))]).jsonString
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension APIError {
    /// 404 for a path that does not exist.
    public static let notFound = APIError(.notFound, code: "not_found", message: "There is no such route.")

    /// 500 for anything unexpected; details go to the log, never to the client.
    public static let unexpected = APIError(
        .internalServerError,
        code: "internal_error",
        message: "The server failed to handle the request; the log has the details."
    )

    /// 503 when storage cannot be reached.
    public static let storageUnavailable = APIError(
        .serviceUnavailable,
        code: "storage_unavailable",
        message: "Storage is unavailable; retry later."
    )

    /// 400 for a body that is not what the route expects.
    public static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(.badRequest, code: code, message: message)
    }

    /// The answer for a signature failure: 413 for an oversized payload, 400 for an unreadable one, else 401.
    public init(_ error: SignatureError) {
        switch error.code {
        case .payloadTooLarge: self.init(.contentTooLarge, code: "\(error.code)", message: error.message)
        case .invalidPayload: self.init(.badRequest, code: "\(error.code)", message: error.message)
        case .emptySecret, .invalidTolerance: self = .unexpected
        default: self.init(.unauthorized, code: "\(error.code)", message: error.message)
        }
    }

    /// The answer for a store error: 409 for a version conflict, 503 when storage is unavailable.
    public init(_ error: StoreError) {
        switch error.code {
        case .versionConflict:
            self.init(
                .conflict,
                code: "\(error.code)",
                message: error.message,
                details: error.currentVersion.map { [PayloadField("current_version", .number(Double($0)))] } ?? []
            )
        default: self = .storageUnavailable
        }
    }

    /// The answer for a failed Stripe API call: 503 `stripe_not_configured` when no credential is configured for
    /// the tenant, otherwise 502 `stripe_api_error` with Stripe's code, request id and (key-redacted) message.
    public init(_ error: StripeAPIError) {
        if error.code == .missingCredential {
            self.init(.serviceUnavailable, code: "stripe_not_configured", message: error.message)
            return
        }
        var details = [PayloadField("stripe_error", .string("\(error.code)"))]
        if let code = error.stripeCode { details.append(PayloadField("stripe_code", .string(code))) }
        if let requestID = error.requestID { details.append(PayloadField("stripe_request_id", .string(requestID))) }
        self.init(.badGateway, code: "stripe_api_error", message: error.message, details: details)
    }
}
