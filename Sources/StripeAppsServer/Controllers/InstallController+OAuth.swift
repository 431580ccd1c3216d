import HTTPTypes
import Hummingbird
import Logging
import StripeApps
import StripeAppsAPI

extension InstallController {
    /// The callback of an OAuth app (`stripe_api_access_type: oauth`): Stripe sends `code` and `state` instead of
    /// an install signature. The state and the cookie are checked as for install links, then the code is
    /// exchanged with the secret key of the mode the install was started for, the tokens are stored sealed, and
    /// the state is consumed with the install's follow-up event in one transaction. Until then a failure leaves the
    /// state cookie, as on the install-link callback.
    func completeOAuth(
        code: String,
        state: String?,
        _ request: Request,
        _ context: AppRequestContext,
        _ clearCookie: HTTPFields
    ) async throws -> Response {
        guard let state else {
            return page(
                .badRequest, "missing_parameters", "This install link is incomplete",
                "The redirect from Stripe lacks state. Start again from the install link.")
        }
        guard StripeID.isValid(code, prefix: "ac_") else {
            return page(
                .badRequest, "invalid_parameters", "This install link is not valid",
                "The authorization code in the redirect is malformed.")
        }
        if let mismatch = browserMismatch(request, state: state, context) { return mismatch }
        // Only a callback that came back to the browser that started it learns that the backend is not set up
        // (and its state stays unused, so it can be retried once it is): anonymous junk gets the 400s above.
        guard let oauthTokens else {
            context.logger.error("OAuth callback, but no secret key or ENCRYPTION_KEYS is configured")
            return page(
                .serviceUnavailable, "oauth_not_configured", "OAuth installs are not set up",
                "This backend cannot exchange OAuth codes: set STRIPE_SECRET_KEY_LIVE / STRIPE_SECRET_KEY_TEST and ENCRYPTION_KEYS."
            )
        }
        // Checked, not consumed: the state is consumed with the follow-up once the tokens are in hand, in one
        // transaction, so no failure in between leaves a consumed state whose install is forgotten.
        let stateHash = InstallState.hash(of: state)
        guard let installState = try await states.state(hash: stateHash, now: hooks.now()) else {
            return stateExpiredOrUsed(clearCookie)
        }
        let configuredModes = configuration.stripeSecretKeys.map(\.mode)
        guard let mode = installState.mode ?? (configuredModes.count == 1 ? configuredModes.first : nil) else {
            return page(
                .badRequest, "mode_unknown", "Start the installation again",
                "This backend has keys for both modes and the install did not say which one it was for. Start from /install?mode=live or /install?mode=test."
            )
        }
        let grant: OAuthGrant
        do {
            grant = try await oauthTokens.exchange(code: code, mode: mode)
        } catch let error as StripeAPIError {
            context.logger.warning(
                "OAuth code exchange failed",
                metadata: ["error.code": "\(error.code)", "stripe.request_id": "\(error.requestID ?? "-")"])
            switch error.code {
            case .connection, .timeout, .server, .rateLimited, .invalidResponse:
                return page(
                    .badGateway, "stripe_unavailable", "Stripe could not be reached",
                    "The app could not finish the installation because Stripe did not answer. Start again from the install link in a minute."
                )
            default:
                return page(
                    .badRequest, "oauth_code_rejected", "This installation could not be completed",
                    "Stripe refused the authorization code: it was already used, it expired (codes last 5 minutes), or it is for the other mode. Start again from the install link."
                )
            }
        }
        // The tenant comes from Stripe's token response (over TLS, to our secret key): its mode is trusted.
        let tenant = grant.tenant
        guard
            let outcome = try await completeInstall(
                stateHash: stateHash, tenant: tenant, userID: nil, source: .oauthCallback, confirmed: true,
                occurredAt: hooks.now(), context, clearCookie)
        else {
            // Only a second callback racing this one gets here: the tokens are stored, and the signed
            // `account.application.authorized` event records the installation.
            return stateExpiredOrUsed(clearCookie)
        }
        context.logger.info(
            "OAuth install completed",
            metadata: ["stripe.account": .string(tenant.accountID), "stripe.mode": .string(tenant.mode.description)]
        )
        return outcome
    }
}
