import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StripeApps
import Synchronization

extension FakeStripe {
    /// The largest request body read, as Stripe's own limit is far below any real form.
    static let maximumBodySize = 1 << 20

    /// Answers one HTTP request: records it, applies an injected fault, then authorizes and executes it.
    func respond(to request: Request, context: some RequestContext) async -> Response {
        let requestID = FakeStripeIdentifiers.make("req_", length: 14)
        let method = request.method.rawValue
        let path = request.uri.path
        let stripeVersion = Self.header(request, "Stripe-Version")
        let parameters = await Self.parameters(of: request)
        let incoming = FakeStripeState.Incoming(
            method: method,
            path: path,
            parameters: parameters,
            key: Self.apiKey(from: Self.header(request, "Authorization")),
            stripeAccount: Self.header(request, "Stripe-Account"),
            idempotencyKey: Self.header(request, "Idempotency-Key"),
            requestID: requestID
        )
        let arrival = now()
        let fault = state.withLock { state in
            let credential = state.credential(for: incoming.key, settings: settings, now: arrival)
            let fault = state.takeFault(method: method, path: path)
            state.requests.append(
                RecordedRequest(
                    requestID: requestID,
                    method: method,
                    path: path,
                    parameters: (try? parameters.get()) ?? .object([]),
                    stripeAccount: incoming.stripeAccount,
                    idempotencyKey: incoming.idempotencyKey,
                    stripeVersion: stripeVersion,
                    credential: credential.kind,
                    mode: credential.mode,
                    fault: fault,
                    status: nil,
                    wasReplayed: false
                )
            )
            return fault
        }
        let reply: FakeStripeReply
        switch fault?.action {
        case .drop?:
            return await dropConnection(context: context)
        case .respond(let error)?:
            reply = FakeStripeReply(error: error, requestID: requestID)
        case .delay(let delay)?:
            try? await Task.sleep(for: delay)
            reply = execute(incoming)
        case nil:
            reply = execute(incoming)
        }
        state.withLock { state in
            guard let index = state.requests.lastIndex(where: { $0.requestID == requestID }) else { return }
            state.requests[index].status = reply.status
            state.requests[index].wasReplayed = reply.isReplay
        }
        return response(for: reply, stripeVersion: stripeVersion)
    }

    private func execute(_ incoming: FakeStripeState.Incoming) -> FakeStripeReply {
        let now = now()
        return state.withLock { $0.execute(incoming, settings: settings, now: now) }
    }

    private func response(for reply: FakeStripeReply, stripeVersion: String?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-cache, no-store"
        Self.add("Request-Id", reply.requestID, to: &headers)
        Self.add("Stripe-Version", stripeVersion ?? settings.apiVersion, to: &headers)
        for header in reply.headers { Self.add(header.name, header.value, to: &headers) }
        return Response(
            status: Self.status(reply.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body))
        )
    }

    /// Ends the connection without a complete response.
    ///
    /// With ``FakeStripeRequestContext`` the channel closes before any byte is written, so clients see an empty
    /// reply. Other contexts have no channel to close; their response body fails after the head, which makes
    /// the server close the connection mid-response.
    private func dropConnection(context: some RequestContext) async -> Response {
        if let own = context as? FakeStripeRequestContext {
            try? await own.channel.close()
        }
        return Response(
            status: .internalServerError,
            headers: [:],
            body: ResponseBody { _ in throw DroppedConnection() }
        )
    }

    /// The error that aborts a dropped response's body.
    private struct DroppedConnection: Error {}

    /// The decoded parameters: the query string, plus the form body of a POST.
    private static func parameters(of request: Request) async -> Result<PayloadValue, FakeStripeError> {
        var text = request.uri.query ?? ""
        if request.method == .post {
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maximumBodySize)
            } catch {
                return .failure(.invalidParameter("Invalid request: the body is too large or could not be read."))
            }
            if body.readableBytes > 0 {
                let contentType = header(request, "Content-Type") ?? "application/x-www-form-urlencoded"
                guard contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
                    return .failure(
                        .invalidParameter(
                            "Invalid request: unsupported Content-Type \(contentType). If error persists and you "
                                + "need assistance, please contact support@stripe.com."
                        )
                    )
                }
                let form = String(buffer: body)
                text = text.isEmpty ? form : text + "&" + form
            }
        }
        do {
            return .success(try FormDecoder.decode(text))
        } catch {
            return .failure(.invalidParameter(error.message, param: error.key))
        }
    }

    /// The key of `Authorization: Bearer <key>` or `Authorization: Basic base64(<key>:)`; an unreadable header is
    /// returned whole, so it counts as an unknown key.
    private static func apiKey(from authorization: String?) -> String? {
        guard let authorization = authorization?.trimmingCharacters(in: .whitespaces), !authorization.isEmpty
        else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return authorization }
        let credentials = parts[1].trimmingCharacters(in: .whitespaces)
        switch parts[0].lowercased() {
        case "bearer":
            return credentials
        case "basic":
            guard let data = Data(base64Encoded: credentials), let decoded = String(data: data, encoding: .utf8) else {
                return authorization
            }
            return String(decoded.prefix { $0 != ":" })
        default:
            return authorization
        }
    }

    private static func header(_ request: Request, _ name: String) -> String? {
        HTTPField.Name(name).flatMap { request.headers[$0] }
    }

    private static func add(_ name: String, _ value: String, to headers: inout HTTPFields) {
        guard let name = HTTPField.Name(name) else { return }
        headers.append(HTTPField(name: name, value: value))
    }

    private static let knownStatuses: [HTTPResponse.Status] = [
        .ok, .badRequest, .unauthorized, HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), .forbidden,
        .notFound, .conflict, .tooManyRequests,
        .internalServerError, .badGateway, .serviceUnavailable, .gatewayTimeout,
    ]

    private static func status(_ code: Int) -> HTTPResponse.Status {
        knownStatuses.first { $0.code == code } ?? HTTPResponse.Status(code: code)
    }
}
