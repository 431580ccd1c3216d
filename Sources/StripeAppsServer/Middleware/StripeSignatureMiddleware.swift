public import Hummingbird
import Logging
public import StripeApps
import Tracing

/// Verifies the `Stripe-Signature` of a UI-extension request, then records the verified caller in the context.
///
/// - POST, PUT, PATCH: the body is the signed JSON and is verified byte for byte, never re-encoded.
/// - GET, DELETE, HEAD: the payload is rebuilt from `Stripe-User-Id` and `Stripe-Account-Id` (and
///   `Stripe-Mode`, which then becomes part of the signed payload: `{"mode":…,"user_id":…,"account_id":…}`).
///
/// The body limit is enforced before any hashing (413). The mode of the tenant is the signed extra value
/// `mode`; it is never read from an unsigned source. Mount handlers behind it with
/// `group(context: VerifiedRequestContext.self)` so they cannot run unverified.
///
/// A refused signature is answered 401 with a stable code (`Docs/troubleshooting.md` lists the causes of each).
/// In development mode only (`explainsFailures`), the answer also carries a `hint` saying what is wrong, from
/// ``StripeApps/SignatureDiagnosis``, and the log line of the refusal carries it too.
public struct StripeSignatureMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    private let currentVerifier: @Sendable () throws -> SignatureVerifier
    private let rejections: LogSampler
    private let metrics: AppMetrics?
    private let isTraced: Bool
    private let explainsFailures: Bool

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - verifier: The verifier holding the app signing secrets, the time window and the payload limit.
    ///   - rejections: Samples the log lines of refused requests, so that anonymous traffic cannot flood the log.
    ///   - metrics: Counts each check in `stripe_apps_signature_verifications_total{surface="ui"}`.
    ///   - isTraced: Whether each check runs in a `stripe_apps.signature.verify` span (traces are configured).
    ///   - explainsFailures: Whether a 401 carries a `hint` explaining the failure (see
    ///     ``APIError/withHint(_:)``). For development only: a hint tells the sender what a valid request would
    ///     look like, so never turn it on for a server others can reach.
    public init(
        verifier: SignatureVerifier, rejections: LogSampler = LogSampler(), metrics: AppMetrics? = nil,
        isTraced: Bool = false, explainsFailures: Bool = false
    ) {
        currentVerifier = { verifier }
        self.rejections = rejections
        self.metrics = metrics
        self.isTraced = isTraced
        self.explainsFailures = explainsFailures
    }

    /// Creates the middleware with a verifier known only once storage is ready.
    init(signing: AppSigning, rejections: LogSampler, metrics: AppMetrics, isTraced: Bool, explainsFailures: Bool) {
        currentVerifier = { try signing.verifier() }
        self.rejections = rejections
        self.metrics = metrics
        self.isTraced = isTraced
        self.explainsFailures = explainsFailures
    }

    public func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var request = request
        var context = context
        let verifier = try currentVerifier()
        let body = try await request.collectBody(limitedTo: verifier.maximumPayloadBytes)
        guard let header = try request.headers.singleStripeSignature(), !header.isEmpty else {
            let error = SignatureError(.missingHeader)
            metrics?.recordVerification(.ui, result: "\(error.code)")
            guard explainsFailures else { throw APIError(error) }
            throw refusal(error, header: nil, payload: Array(body.readableBytesView), request, verifier, context)
        }
        let payload: UIRequestPayload
        let verified: VerifiedSignature
        var signedBytes: [UInt8] = []
        do {
            (payload, verified) = try traced("stripe_apps.signature.verify") {
                switch request.method {
                case .get, .head, .delete:
                    let payload = try rebuiltPayload(from: request)
                    signedBytes = payload.bytes
                    return (payload, try verifier.verify(payload: signedBytes, header: header))
                default:
                    guard body.readableBytes > 0 else {
                        throw APIError.badRequest(
                            "missing_payload",
                            "Send the signed JSON as the body: JSON.stringify({...payload, user_id, account_id})."
                        )
                    }
                    signedBytes = Array(body.readableBytesView)
                    let verified = try verifier.verify(payload: signedBytes, header: header)
                    return (try UIRequestPayload(verifiedJSON: signedBytes), verified)
                }
            }
        } catch let error as SignatureError {
            metrics?.recordVerification(.ui, result: "\(error.code)")
            throw refusal(error, header: header, payload: signedBytes, request, verifier, context)
        }
        metrics?.recordVerification(.ui, result: "valid")
        // Authentic is not the same as sane: ids and roles of the wrong shape go no further than here.
        do {
            try payload.validateShape()
        } catch {
            rejections.log(context.logger, .info, "rejected signed request", code: "\(error.code)")
            throw APIError.badRequest("\(error.code)", error.message)
        }
        let user = VerifiedUser(payload: payload, mode: try mode(of: payload), secretLabel: verified.secretLabel)
        context.verifiedUser = user
        context.logger[metadataKey: "stripe.account"] = .string(user.accountID)
        context.logger[metadataKey: "stripe.user"] = .string(user.userID)
        context.logger[metadataKey: "stripe.mode"] = .string(user.mode?.description ?? "unsigned")
        let response = try await next(request, context)
        context.logger.info(
            "signed request",
            metadata: ["stripe.secret": .string(verified.secretLabel), "http.status": "\(response.status.code)"]
        )
        return response
    }

    /// Logs a refused signature and returns its answer: the error's code and message, and in development mode a
    /// hint, logged with the refusal too.
    private func refusal(
        _ error: SignatureError, header: String?, payload: [UInt8], _ request: Request, _ verifier: SignatureVerifier,
        _ context: AppRequestContext
    ) -> APIError {
        let answer = APIError(error)
        guard explainsFailures, answer.status == .unauthorized else {
            rejections.log(context.logger, .info, "rejected signed request", code: "\(error.code)")
            return answer
        }
        let diagnosis = SignatureDiagnosis(
            keyring: verifier.keyring, header: header, payload: payload,
            options: .init(
                purpose: .uiRequest, userID: request.headers[.stripeUserID],
                accountID: request.headers[.stripeAccountID], tolerance: verifier.tolerance, now: verifier.now(),
                maximumPayloadBytes: verifier.maximumPayloadBytes))
        rejections.log(
            context.logger, .info, "rejected signed request", code: "\(error.code)",
            metadata: [
                "signature.hint": .string(diagnosis.explanation),
                "signature.hint_codes": .array(diagnosis.findings.map { .string("\($0.code)") }),
            ])
        return answer.withHint(diagnosis)
    }

    /// Runs `body` in a span named `name` when traces are on; a failure is recorded on the span.
    private func traced<R>(_ name: String, _ body: () throws -> R) throws -> R {
        guard isTraced else { return try body() }
        return try ChildSpan.run(name, attributes: { _ in ["stripe_apps.surface": .string("ui")] }, body)
    }

    private func rebuiltPayload(from request: Request) throws -> UIRequestPayload {
        guard let userID = request.headers[.stripeUserID], let accountID = request.headers[.stripeAccountID] else {
            throw APIError.badRequest(
                "missing_identity_headers",
                "A GET or DELETE must send Stripe-User-Id and Stripe-Account-Id (and Stripe-Mode) with its signature."
            )
        }
        let extra = request.headers[.stripeMode].map { [PayloadField("mode", .string($0))] } ?? []
        return try UIRequestPayload(userID: userID, accountID: accountID, extra: extra)
    }

    private func mode(of payload: UIRequestPayload) throws(APIError) -> Tenant.Mode? {
        guard let value = payload[extra: "mode"] else { return nil }
        guard let text = value.stringValue, let mode = Tenant.Mode(text) else {
            throw APIError.badRequest("invalid_mode", "The signed mode must be \"live\" or \"test\".")
        }
        return mode
    }
}
