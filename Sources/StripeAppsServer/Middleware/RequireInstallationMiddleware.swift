public import Hummingbird
import Logging
public import StripeApps

/// Lets a signed request through only when its tenant has the app installed (403 `not_installed` otherwise) and
/// is not blocked by an operator (403 `tenant_blocked`, whether installed or not).
///
/// A signature proves who asked and when, not that the app is still installed: without this check a UI call
/// captured within the signature window could recreate settings that an uninstall just purged, and an account
/// that removed the app could go on using its routes. With a signed mode the tenant (account, mode) must be
/// active; a request that signed no mode cannot reach a tenant's data (``VerifiedUser/tenant()`` refuses it),
/// and passes when the account has the app installed in either mode.
///
/// The server puts it in front of `/api/settings` and every route an app adds with
/// ``ApplicationHooks/configureAPI``, but not `/api/whoami`, which reports the status. In development mode
/// (no app secret configured) it is left out, so a fresh `serve` answers the printed commands.
public struct RequireInstallationMiddleware<Installations: InstallationStore>: RouterMiddleware {
    public typealias Context = VerifiedRequestContext

    private let installations: Installations
    private let rejections: LogSampler

    /// Creates the middleware over the store of installation records; `rejections` samples the log lines of
    /// refused requests.
    public init(installations: Installations, rejections: LogSampler = LogSampler()) {
        self.installations = installations
        self.rejections = rejections
    }

    public func handle(
        _ request: Request,
        context: VerifiedRequestContext,
        next: (Request, VerifiedRequestContext) async throws -> Response
    ) async throws -> Response {
        // One read per tenant reached answers both questions.
        let records = try await installations.records(reachedBy: context.user)
        if records.contains(where: { $0?.isBlocked == true }) {
            rejections.log(context.logger, .info, "refused signed request", code: "tenant_blocked")
            throw APIError.tenantBlocked
        }
        guard records.contains(where: { $0?.status == .active }) else {
            rejections.log(context.logger, .info, "refused signed request", code: "not_installed")
            throw APIError.notInstalled
        }
        return try await next(request, context)
    }
}

extension APIError {
    /// 403 for a signed request whose account does not have the app installed (in the signed mode).
    public static let notInstalled = APIError(
        .forbidden,
        code: "not_installed",
        message:
            "The app is not installed on this account in this mode. Install it, or wait for the install to be "
            + "recorded (POST /api/whoami reports the status)."
    )
}
