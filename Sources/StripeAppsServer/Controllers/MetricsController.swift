import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StripeApps

/// `GET /metrics`: every metric in the Prometheus text format (version 0.0.4).
///
/// With `METRICS_TOKEN` set it needs `Authorization: Bearer <METRICS_TOKEN>` (401 `unauthorized` otherwise,
/// compared in constant time); without it, it is open, as Prometheus exporters usually are, and `doctor` warns
/// when `PUBLIC_URL` is https. No CORS: browsers never call it. A scrape reads nothing from storage: the inbox
/// and job gauges come from ``StorageGauges``' last read.
struct MetricsController {
    let metrics: AppMetrics
    let token: String?
    let now: @Sendable () -> Date
    let rejections: LogSampler

    func register(on router: Router<AppRequestContext>) {
        router.get("metrics") { request, context in try scrape(request, context) }
        router.methodNotAllowed("metrics", allowed: [.get])
    }

    private func scrape(_ request: Request, _ context: AppRequestContext) throws -> Response {
        if let token {
            guard request.headers.carriesBearerToken(token) else {
                rejections.log(context.logger, .warning, "metrics scrape without the right token", code: "unauthorized")
                throw APIError(
                    .unauthorized, code: "unauthorized", message: "Authorization: Bearer <METRICS_TOKEN> is required.",
                    headers: [.wwwAuthenticate: "Bearer"])
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(now: now()))))
    }
}
