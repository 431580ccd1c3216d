import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StripeApps

/// `POST /webhooks/live` and `POST /webhooks/test`: verify, then store in the durable inbox, then answer 2xx.
///
/// Each endpoint has its own keyring (Stripe gives every endpoint and mode its own secret). The raw body is
/// verified before anything parses it, and the body limit applies before the HMAC. The answer is 200 only once
/// the event is durably stored; a duplicate delivery gets 200 and changes nothing. Events are routed by their
/// own `livemode`: an app installed in both modes receives its test events on both endpoints, and the inbox
/// stores them once. A live event can never arrive on the test endpoint, so that is refused.
///
/// The event of a tenant an operator blocked is acknowledged too (200, so Stripe stops retrying) and stored
/// `blocked`: it is kept, counted and listed, and never runs. The inbox decides that in the statement that stores the
/// event (``StripeApps/InboxArrival/held``), so a delivery makes no read of its own and cannot miss a block
/// committed just before it.
struct WebhookController<Inbox: EventInbox> {
    let configuration: AppConfiguration
    /// The endpoints' verifiers, known once storage is ready (development mode keeps its secrets there).
    let signing: AppSigning
    let inbox: Inbox
    let now: @Sendable () -> Date
    let worker: InboxWorker?
    /// Samples the log lines of rejected deliveries.
    let rejections: LogSampler
    /// Counts deliveries and signature checks.
    let metrics: AppMetrics

    func register(on router: Router<AppRequestContext>) {
        router.post("webhooks/live") { request, context in
            try await counted(isLiveEndpoint: true) {
                try await receive(request, context: context, isLiveEndpoint: true)
            }
        }
        router.post("webhooks/test") { request, context in
            try await counted(isLiveEndpoint: false) {
                try await receive(request, context: context, isLiveEndpoint: false)
            }
        }
        router.methodNotAllowed("webhooks/live", allowed: [.post])
        router.methodNotAllowed("webhooks/test", allowed: [.post])
    }

    /// How a delivery ended, as `stripe_apps_webhook_deliveries_total` counts it.
    private enum Delivery: String {
        case stored, duplicate, blocked
    }

    /// Runs `receive`, counting its delivery as stored, duplicate, blocked or rejected (whatever it throws).
    private func counted(isLiveEndpoint: Bool, _ receive: () async throws -> (Response, Delivery)) async throws
        -> Response
    {
        do {
            let (response, delivery) = try await receive()
            metrics.recordDelivery(isLiveEndpoint: isLiveEndpoint, outcome: delivery.rawValue)
            return response
        } catch {
            metrics.recordDelivery(isLiveEndpoint: isLiveEndpoint, outcome: "rejected")
            throw error
        }
    }

    private func receive(
        _ request: Request,
        context: AppRequestContext,
        isLiveEndpoint: Bool
    ) async throws -> (Response, Delivery) {
        // One verifier per endpoint, built once: each holds its secrets' keyed hash states.
        guard let verifier = try signing.webhookVerifier(isLiveEndpoint: isLiveEndpoint) else {
            // Stripe retries on 503, so nothing is lost while the operator configures the secret.
            throw APIError(
                .serviceUnavailable,
                code: "webhook_not_configured",
                message: "This endpoint has no secret: set STRIPE_WEBHOOK_SECRETS_\(isLiveEndpoint ? "LIVE" : "TEST")."
            )
        }
        var request = request
        let body = try await request.collectBody(limitedTo: verifier.maximumPayloadBytes)
        let bytes = Array(body.readableBytesView)
        let header = try request.headers.singleStripeSignature()
        let event: AppEvent
        do {
            _ = try verifier.verify(payload: bytes, header: header)
            metrics.recordVerification(.webhook, result: "valid")
            event = try AppEvent(json: bytes)
        } catch {
            if error.code != .invalidPayload { metrics.recordVerification(.webhook, result: "\(error.code)") }
            throw refusal(error, header: header, payload: bytes, verifier: verifier, context)
        }
        guard !event.type.hasPrefix(InstallFollowUps.reservedTypePrefix) else {
            throw APIError.badRequest(
                "reserved_event_type", "Event types starting with stripe_apps_backend. are the backend's own.")
        }
        guard event.isLiveMode == false || isLiveEndpoint else {
            throw APIError.badRequest("mode_mismatch", "A live-mode event cannot arrive on the test-mode endpoint.")
        }
        let stored = InboxEvent(
            event: event, payload: String(decoding: bytes, as: UTF8.self), receivedAt: now(),
            traceParent: DeliveryTrace.current())
        // Through the worker, the event starts here at once when it has room; without one, it waits for a claim.
        // Either way the inbox holds the event of a blocked tenant: acknowledged and kept, never run.
        let arrival: InboxArrival
        if let worker {
            arrival = try await worker.receive(stored)
        } else {
            arrival = try await inbox.enqueue(stored)
        }
        let isHeld = arrival == .held
        context.logger.info(
            isHeld ? "webhook of a blocked tenant stored without running" : "webhook stored",
            metadata: [
                "stripe.event": .string(event.id), "stripe.event.type": .string(event.type),
                "stripe.account": .string(event.accountID ?? "-"),
                "stripe.mode": .string(event.isLiveMode ? "live" : "test"),
                "inbox.duplicate": "\(!arrival.isNew)",
            ]
        )
        var fields = [PayloadField("received", .bool(true)), PayloadField("duplicate", .bool(!arrival.isNew))]
        if isHeld { fields.append(PayloadField("blocked", .bool(true))) }
        return (Response.json(.object(fields)), isHeld ? .blocked : arrival.isNew ? .stored : .duplicate)
    }

    /// Logs a refused delivery and returns its answer; in development mode a 401 carries a hint (logged too).
    private func refusal(
        _ error: SignatureError, header: String?, payload: [UInt8], verifier: SignatureVerifier,
        _ context: AppRequestContext
    ) -> APIError {
        let answer = APIError(error)
        guard configuration.isDevelopmentMode, answer.status == .unauthorized else {
            rejections.log(context.logger, .info, "rejected webhook", code: "\(error.code)")
            return answer
        }
        let diagnosis = SignatureDiagnosis(
            keyring: verifier.keyring, header: header, payload: payload,
            options: .init(
                purpose: .webhook, tolerance: verifier.tolerance, now: verifier.now(),
                maximumPayloadBytes: verifier.maximumPayloadBytes))
        rejections.log(
            context.logger, .info, "rejected webhook", code: "\(error.code)",
            metadata: [
                "signature.hint": .string(diagnosis.explanation),
                "signature.hint_codes": .array(diagnosis.findings.map { .string("\($0.code)") }),
            ])
        return answer.withHint(diagnosis)
    }
}
