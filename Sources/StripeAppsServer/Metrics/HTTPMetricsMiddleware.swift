public import Hummingbird

/// Records `http_server_request_duration_seconds` for every request: method, route template, status.
///
/// Hummingbird's `MetricsMiddleware` records through the process-wide swift-metrics factory under its own names
/// (`http.server.request.duration`, `hb.requests`); this one writes to the application's own registry (each test
/// application has its own) under OpenTelemetry's names, and the route is the template (`/webhooks/live`,
/// `/api/settings`), never the raw path: unmatched paths are recorded with an empty route. Methods outside the
/// standard set are `_OTHER`, as OpenTelemetry asks. Add it outermost, so that it sees the final status.
public struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let metrics: AppMetrics

    /// Creates the middleware recording into `metrics`.
    public init(metrics: AppMetrics) {
        self.metrics = metrics
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let method = Self.label(request.method)
        do {
            let response = try await next(request, context)
            // Measured until the response is ready: the body's write to the socket is not included (Hummingbird
            // keeps the hook for that to itself, and wrapping every body would cost more than the write).
            metrics.recordRequest(
                method: method, route: context.endpointPath ?? "", status: Int(response.status.code),
                duration: .now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(
                method: method, route: context.endpointPath ?? "", status: Int(status), duration: .now - started)
            throw error
        }
    }

    static func label(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .delete, .connect, .options, .trace, .patch: method.rawValue
        default: "_OTHER"
        }
    }
}
