import Foundation
import Hummingbird
import Logging
import StripeApps

/// `/healthz` (the process answers) and `/readyz` (storage answers too).
struct HealthController {
    let store: any AppStore

    func register(on router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in Response.json(.object([PayloadField("status", .string("ok"))])) }
        router.get("readyz") { _, context in
            do {
                try await store.checkHealth()
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
