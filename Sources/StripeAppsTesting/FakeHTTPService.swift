public import Foundation
public import HTTPTypes
import Hummingbird
import Logging
import NIOCore
public import StripeApps
import Synchronization

/// A small fake of a third-party HTTP API (a CRM, a mailer…) for tests of code that calls one through
/// `ExternalAPIClient` or any HTTP client: it serves on 127.0.0.1 at a free port, answers with the handlers you
/// register, records every request, fails the requests you tell it to, and applies each idempotency key once,
/// as well-behaved APIs do.
///
/// ```swift
/// let crm = FakeHTTPService()
/// crm.on(.post, "/v1/contacts") { request in .json(.object([PayloadField("id", .string("ct_1"))]), status: .created) }
/// crm.fail(next: 2, with: .serviceUnavailable)  // an outage of two requests
/// try await crm.withServer { baseURL in
///     // point the code under test at baseURL, run it, then inspect crm.requests
/// }
/// ```
public final class FakeHTTPService: Sendable {
    /// A request as the fake received it.
    public struct Request: Sendable {
        /// The method.
        public let method: HTTPRequest.Method
        /// The path, without the query.
        public let path: String
        /// The query string, without `?` (empty when none).
        public let query: String
        /// The headers.
        public let headers: HTTPFields
        /// The body's bytes.
        public let body: [UInt8]
        /// What the fake answered.
        public let status: HTTPResponse.Status
        /// Whether it repeated an idempotency key and got the first answer again, without the handler running.
        public let isReplay: Bool

        /// The path's segments, without the empty one before the first `/`, percent-decoded.
        public var pathSegments: [String] {
            path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        }

        /// The `Authorization` header.
        public var authorization: String? { headers[.authorization] }

        /// The value of a header.
        public func header(_ name: String) -> String? {
            HTTPField.Name(name).flatMap { headers[$0] }
        }

        /// The body parsed as JSON; `nil` when it is not JSON.
        public var json: PayloadValue? { try? PayloadValue.parse(body, maximumDepth: 64) }
    }

    /// An answer.
    public struct Reply: Sendable {
        /// The status.
        public var status: HTTPResponse.Status
        /// The headers.
        public var headers: HTTPFields
        /// The body.
        public var body: [UInt8]

        /// Creates an answer.
        public init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// A JSON answer.
        public static func json(_ value: PayloadValue, status: HTTPResponse.Status = .ok) -> Reply {
            Reply(status: status, headers: [.contentType: "application/json"], body: Array(value.jsonString.utf8))
        }

        /// An empty answer with `status`.
        public static func status(_ status: HTTPResponse.Status) -> Reply {
            Reply(status: status)
        }
    }

    /// Answers a request.
    public typealias Handler = @Sendable (Request) throws -> Reply

    private struct Route: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let handler: Handler
    }

    private struct State {
        var routes: [Route] = []
        var requests: [Request] = []
        /// Failures still to answer, in order: the status, and the path they apply to (`nil`: any).
        var failures: [(status: HTTPResponse.Status, path: String?)] = []
        /// The first answer to each (authorization, idempotency key).
        var answers: [String: Reply] = [:]
    }

    private let state = Mutex(State())
    private let idempotencyKeyHeader: HTTPField.Name?

    /// Creates a fake with no routes (everything answers 404 until you register some).
    ///
    /// - Parameter idempotencyKeyHeader: The header whose repeats get the first answer again (per
    ///   `Authorization`), without the handler running; `nil` turns idempotency off.
    public init(idempotencyKeyHeader: String? = "Idempotency-Key") {
        self.idempotencyKeyHeader = idempotencyKeyHeader.flatMap { HTTPField.Name($0) }
    }

    /// Answers `method` on `path` (without the query) with `handler`; a `*` segment matches any one segment
    /// (`/v1/contacts/*`), whose value the handler reads from ``Request/pathSegments``. A later registration of
    /// the same route replaces the earlier one; the last registered route that matches answers.
    public func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        state.withLock { state in
            state.routes.removeAll { $0.method == method && $0.path == path }
            state.routes.append(Route(method: method, path: path, handler: handler))
        }
    }

    /// Makes the next `count` requests (to `path`, or to any path when `nil`) fail with `status` before any
    /// handler runs: an outage. A failed request stores no idempotent answer, so its retry is applied.
    public func fail(next count: Int = 1, with status: HTTPResponse.Status = .serviceUnavailable, path: String? = nil) {
        state.withLock { $0.failures += Array(repeating: (status, path), count: count) }
    }

    /// Every request so far, in arrival order.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// The requests to `path` that the handler ran for (not failed, not replayed).
    public func applied(_ method: HTTPRequest.Method, _ path: String) -> [Request] {
        requests.filter {
            $0.method == method && $0.path == path && $0.status.code < 400 && !$0.isReplay
        }
    }

    /// Forgets the requests recorded so far (routes, failures and idempotent answers stay).
    public func clearRequests() {
        state.withLock { $0.requests.removeAll() }
    }

    /// Answers one request: a scheduled failure, the first answer to a repeated idempotency key, the route's
    /// handler, or 404; records it.
    func answer(method: HTTPRequest.Method, path: String, query: String, headers: HTTPFields, body: [UInt8]) -> Reply {
        enum Decision {
            case reply(Reply, isReplay: Bool)
            case run(Handler)
        }
        let key = idempotencyKeyHeader.flatMap { headers[$0] }.map { "\(headers[.authorization] ?? "") \($0)" }
        let decision = state.withLock { state -> Decision in
            if let index = state.failures.firstIndex(where: { $0.path == nil || $0.path == path }) {
                return .reply(.status(state.failures.remove(at: index).status), isReplay: false)
            }
            if let key, let first = state.answers[key] { return .reply(first, isReplay: true) }
            guard let route = state.routes.last(where: { $0.method == method && Self.matches($0.path, path) }) else {
                return .reply(.status(.notFound), isReplay: false)
            }
            return .run(route.handler)
        }
        let reply: Reply
        let isReplay: Bool
        switch decision {
        case .reply(let answer, let replay):
            (reply, isReplay) = (answer, replay)
        case .run(let handler):
            let request = Request(
                method: method, path: path, query: query, headers: headers, body: body, status: .ok, isReplay: false)
            reply = (try? handler(request)) ?? .status(.internalServerError)
            isReplay = false
            // An answer the handler gave is kept for the key; a server error is not (a retry runs again).
            if let key, reply.status.code < 500 { state.withLock { $0.answers[key] = reply } }
        }
        let recorded = Request(
            method: method, path: path, query: query, headers: headers, body: body, status: reply.status,
            isReplay: isReplay)
        state.withLock { $0.requests.append(recorded) }
        return reply
    }

    /// Whether `path` fits `pattern`, segment by segment, `*` matching any one.
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let expected = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let actual = path.split(separator: "/", omittingEmptySubsequences: false)
        return expected.count == actual.count && zip(expected, actual).allSatisfy { $0 == "*" || $0 == $1 }
    }

    /// Serves the fake on 127.0.0.1 at a free port while `body` runs with its base URL (such as
    /// `http://127.0.0.1:54321`), then shuts it down, whether `body` returns or throws.
    public func withServer<T: Sendable>(_ body: (URL) async throws -> T) async throws -> T {
        let router = Router()
        router.add(middleware: FakeHTTPServiceMiddleware(service: self))
        var logger = Logger(label: "FakeHTTPService")
        logger.logLevel = .warning
        return try await withServedApplication(
            name: "The fake HTTP service", logger: logger,
            { onServerRunning in
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                    onServerRunning: { await onServerRunning($0.localAddress?.port ?? 0) }, logger: logger)
            }, body)
    }
}

/// Hands every request to the fake, whatever its method and path.
private struct FakeHTTPServiceMiddleware<Context: RequestContext>: RouterMiddleware {
    let service: FakeHTTPService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var request = request
        let body = try await request.collectBody(upTo: 16 << 20)
        let reply = service.answer(
            method: request.method, path: request.uri.path, query: request.uri.query ?? "",
            headers: request.headers, body: Array(body.readableBytesView))
        return Response(
            status: reply.status, headers: reply.headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
