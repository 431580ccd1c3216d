public import Hummingbird
import Logging
public import StripeApps

/// Refuses a signed request whose tenant an operator blocked (403 `tenant_blocked`).
///
/// The server puts it in front of `/api/whoami`, and in development mode in front of every other signed route;
/// outside development mode ``RequireInstallationMiddleware`` makes the same check with the same read. A request
/// that signed a mode reaches that tenant only; one that signed none is refused when the account is blocked in
/// either mode.
public struct RefuseBlockedTenantMiddleware<Installations: InstallationStore>: RouterMiddleware {
    public typealias Context = VerifiedRequestContext

    private let installations: Installations
    private let rejections: LogSampler

    /// Creates the middleware over the store of installation records, which holds the blocks; `rejections` samples
    /// the log lines of refused requests.
    public init(installations: Installations, rejections: LogSampler = LogSampler()) {
        self.installations = installations
        self.rejections = rejections
    }

    public func handle(
        _ request: Request,
        context: VerifiedRequestContext,
        next: (Request, VerifiedRequestContext) async throws -> Response
    ) async throws -> Response {
        let records = try await installations.records(reachedBy: context.user)
        if records.contains(where: { $0?.isBlocked == true }) {
            rejections.log(context.logger, .info, "refused signed request", code: "tenant_blocked")
            throw APIError.tenantBlocked
        }
        return try await next(request, context)
    }
}

extension InstallationStore {
    /// The installation records of the tenants a signed request reaches: its signed mode's, or, when it signed
    /// none, the test then the live record of its account (`nil` where there is none).
    func records(reachedBy user: VerifiedUser) async throws -> [Installation?] {
        let modes: [Tenant.Mode] = user.mode.map { [$0] } ?? [.test, .live]
        var records: [Installation?] = []
        for mode in modes {
            records.append(try await installation(for: Tenant(accountID: user.accountID, mode: mode)))
        }
        return records
    }
}

extension APIError {
    /// 403 for a signed request of a tenant an operator blocked (`stripe-apps-backend installations block`).
    public static let tenantBlocked = APIError(
        .forbidden,
        code: "tenant_blocked",
        message: "This account is blocked from using the app in this mode. Contact the app's developer."
    )
}
