import Foundation
import Hummingbird
import Logging
import StripeApps

/// `/healthz` (the process answers) and `/readyz` (storage answers too).
struct HealthController {
    /// Throws when storage cannot serve requests.
    let checkStorage: @Sendable () async throws -> Void

    func register(on router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in Response.json(.object([PayloadField("status", .string("ok"))])) }
        router.get("readyz") { _, context in
            do {
                try await checkStorage()
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error.type": "\(type(of: error))"])
                throw APIError.storageUnavailable
            }
            return Response.json(.object([PayloadField("status", .string("ready"))]))
        }
        router.methodNotAllowed("healthz", allowed: [.get])
        router.methodNotAllowed("readyz", allowed: [.get])
    }
}
