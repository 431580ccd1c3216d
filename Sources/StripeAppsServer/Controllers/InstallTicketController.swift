import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StripeApps

/// The server-to-server routes of install tickets, for the app's own server (see ``InstallTickets``):
///
/// - `POST /install/tickets` `{"app_user": "…", "mode": "live"|"test"}` → 201
///   `{"ticket": "…", "install_url": "…", "expires_at": 1700000000}`
/// - `POST /install/links` `{"link_code": "…", "app_user": "…"}` → 200
///   `{"account_id": "acct_…", "livemode": true, "user_id": "usr_…", "app_user": "…", "installed": true}`
///
/// Both need `Authorization: Bearer <APP_SERVER_TOKEN>` (401 `unauthorized`); without `APP_SERVER_TOKEN` they
/// answer 503 `app_server_token_not_configured`. They have no CORS: browsers never call them.
struct InstallTicketController<States: InstallStateStore, Installations: InstallationStore> {
    let tickets: InstallTickets<States, Installations>
    let token: String?
    let rejections: LogSampler

    /// The largest body these routes read.
    static var maximumBodyBytes: Int { 4096 }

    func register(on router: Router<AppRequestContext>) {
        router.post("install/tickets") { request, context in try await issue(request, context) }
        router.post("install/links") { request, context in try await redeem(request, context) }
        router.methodNotAllowed("install/tickets", allowed: [.post])
        router.methodNotAllowed("install/links", allowed: [.post])
    }

    private func issue(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await authenticatedBody(request, context)
        let mode: Tenant.Mode?
        switch body["mode"] {
        case nil, .null?: mode = nil
        case .string(let text)? where Tenant.Mode(text) != nil: mode = Tenant.Mode(text)
        default: throw APIError.badRequest("invalid_mode", "mode must be live or test.")
        }
        let issued = try await tickets.issue(
            appUser: try string(body, "app_user", code: "invalid_app_user"), mode: mode)
        context.logger.info("install ticket issued")
        return Response.json(
            .object([
                PayloadField("ticket", .string(issued.ticket)),
                PayloadField("install_url", issued.installURL.map(PayloadValue.string) ?? .null),
                PayloadField("expires_at", .number(issued.expiresAt.timeIntervalSince1970.rounded(.down))),
            ]),
            status: .created)
    }

    private func redeem(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await authenticatedBody(request, context)
        let link: ConfirmedInstallLink
        do {
            link = try await tickets.redeem(
                linkCode: try string(body, "link_code", code: "invalid_link_code"),
                appUser: try string(body, "app_user", code: "invalid_app_user"))
        } catch let error as APIError {
            rejections.log(context.logger, .warning, "install link not confirmed", code: error.code)
            throw error
        }
        context.logger.info(
            "install linked to an app user",
            metadata: [
                "stripe.account": .string(link.tenant.accountID), "stripe.mode": .string(link.tenant.mode.description),
            ])
        return Response.json(
            .object([
                PayloadField("account_id", .string(link.tenant.accountID)),
                PayloadField("livemode", .bool(link.tenant.mode.isLive)),
                PayloadField("user_id", link.userID.map(PayloadValue.string) ?? .null),
                PayloadField("app_user", .string(link.appUser)),
                PayloadField("installed", .bool(link.isInstalled)),
            ]))
    }

    /// The JSON object of an authenticated request; throws the 503, 401, 413 or 400 to answer otherwise.
    private func authenticatedBody(_ request: Request, _ context: AppRequestContext) async throws -> PayloadValue {
        guard let token else {
            throw APIError(
                .serviceUnavailable, code: "app_server_token_not_configured",
                message: "Set APP_SERVER_TOKEN to let the app's own server call this route.")
        }
        guard request.headers.carriesBearerToken(token) else {
            rejections.log(
                context.logger, .warning, "server-to-server call without the right token", code: "unauthorized")
            throw APIError(
                .unauthorized, code: "unauthorized", message: "Authorization: Bearer <APP_SERVER_TOKEN> is required.",
                headers: [.wwwAuthenticate: "Bearer"])
        }
        var request = request
        let bytes = try await request.collectBody(limitedTo: Self.maximumBodyBytes)
        guard let value = try? PayloadValue.parse(bytes.readableBytesView, maximumDepth: 4), case .object = value else {
            throw APIError.badRequest("invalid_body", "The body must be a JSON object.")
        }
        return value
    }

    private func string(_ body: PayloadValue, _ key: String, code: String) throws(APIError) -> String {
        guard let value = body[key]?.stringValue else { throw APIError.badRequest(code, "\(key) must be a string.") }
        return value
    }
}
