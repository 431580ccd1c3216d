public import Hummingbird
public import Logging

/// Logs one line per request at a chosen level: method, path **without the query string**, status.
///
/// Hummingbird's `LogRequestsMiddleware` logs the whole URI, and install callbacks carry an OAuth `code`, a CSRF
/// `state` and an `install_signature` in theirs: none of them may reach a log, at any level.
public struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    private let level: Logger.Level

    /// Creates the middleware; lines are written at `level`.
    public init(_ level: Logger.Level) {
        self.level = level
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard context.logger.logLevel <= level else { return try await next(request, context) }
        let metadata: Logger.Metadata = [
            "http.method": .string(request.method.rawValue), "http.path": .string(request.uri.path),
        ]
        do {
            let response = try await next(request, context)
            var answered = metadata
            answered["http.status"] = "\(response.status.code)"
            context.logger.log(level: level, "request", metadata: answered)
            return response
        } catch {
            var failed = metadata
            failed["error.type"] = "\(type(of: error))"
            context.logger.log(level: level, "request failed", metadata: failed)
            throw error
        }
    }
}
