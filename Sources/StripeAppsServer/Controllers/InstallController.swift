import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StripeApps
import StripeAppsAPI

/// `GET /install` starts an install through the marketplace with a one-time CSRF state bound to the browser;
/// `GET /install/callback` is the redirect URI Stripe sends the user back to.
struct InstallController<States: InstallStateStore, Installations: InstallationStore> {
    let configuration: AppConfiguration
    let states: States
    let installations: Installations
    /// The app signing secrets, known once storage is ready (development mode keeps its secret there).
    let signing: AppSigning
    let hooks: ApplicationHooks
    /// Exchanges the `code` of OAuth apps' callbacks; `nil` without secret keys and `ENCRYPTION_KEYS`.
    let oauthTokens: OAuthTokens?
    /// Samples the log lines of anonymous install traffic and of refused callbacks.
    let rejections: LogSampler
    /// Limits `/install` and `/install/callback` per client address.
    let limiter: ClientRateLimiter
    /// Woken when a callback stored its follow-up event, so the install hook runs at once.
    let worker: InboxWorker?
    /// Counts outcomes (each page's code, `started`, `installed`) and install signature checks.
    let metrics: AppMetrics
    /// The marketplace link, the redirect URI and the Dashboard: configured, or development mode's local stand-ins.
    let targets: InstallTargets

    /// The cookie that binds the state to the browser; `__Host-` and `Secure` when the backend is served over https.
    var cookieName: String { isSecure ? "__Host-stripe_apps_install" : "stripe_apps_install" }
    var isSecure: Bool { (targets.publicURL ?? targets.redirectURI ?? "").hasPrefix("https://") }

    func register(on router: Router<AppRequestContext>) {
        // Pages count their own code; the redirects onwards (to Stripe, or to the app once installed) here.
        router.get("install") { request, context in
            let response = await answeringFailuresWithAPage(context) { try await begin(request, context) }
            if response.status == .found { metrics.recordInstall(outcome: "started") }
            return response
        }
        router.get("install/callback") { request, context in
            let response = await answeringFailuresWithAPage(context) { try await complete(request, context) }
            if response.status == .found { metrics.recordInstall(outcome: "installed") }
            return response
        }
        router.methodNotAllowed("install", allowed: [.get])
        router.methodNotAllowed("install/callback", allowed: [.get])
    }

    // MARK: /install

    private func begin(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        if let limited = rateLimited(request, context) { return limited }
        guard let link = targets.link, let redirectURI = targets.redirectURI else {
            return page(
                .serviceUnavailable, "install_not_configured", "Install links are not set up",
                "This backend has no install link: set STRIPE_INSTALL_LINK (or STRIPE_APP_ID) and PUBLIC_URL. `stripe-apps-backend doctor` explains what is missing."
            )
        }
        guard targets.allows(redirectURI: redirectURI) else {
            context.logger.error(
                "install redirect URI is not in allowed_redirect_uris", metadata: ["redirect_uri": .string(redirectURI)]
            )
            return page(
                .serviceUnavailable, "redirect_uri_not_allowed", "Install links are misconfigured",
                "The callback URL of this backend is not in the app's allowed_redirect_uris, so Stripe would refuse the install. Run `stripe-apps-backend doctor`."
            )
        }
        if request.uri.queryParameters.get("ref") != nil {
            return page(
                .badRequest, "unsigned_reference", "This install link is not valid",
                "An install link cannot say whose install it is: anyone could send it to someone else. The app links installs to its users with install tickets (/install?ticket=…)."
            )
        }
        var mode: Tenant.Mode?
        switch request.uri.queryParameters.get("mode") {
        case nil: mode = nil
        case let text?:
            guard let parsed = Tenant.Mode(text) else {
                return page(
                    .badRequest, "invalid_mode", "This install link is not valid",
                    "The mode parameter must be live or test.")
            }
            mode = parsed
        }
        var appUser: String?
        if let ticket = request.uri.queryParameters.get("ticket") {
            guard InstallState.isWellFormed(ticket),
                let issued = try await states.consume(.ticket, hash: InstallState.hash(of: ticket), now: hooks.now())
            else {
                rejections.log(context.logger, .warning, "install ticket refused", code: "ticket_expired_or_used")
                return page(
                    .badRequest, "ticket_expired_or_used", "This install link was already used or has expired",
                    "Each install link of the app works once. Open the app again and start the installation from there."
                )
            }
            if let wanted = issued.mode, let asked = mode, wanted != asked {
                return page(
                    .badRequest, "mode_mismatch", "This install link is not valid",
                    "The install ticket is for \(wanted) mode, the link asks for \(asked) mode.")
            }
            appUser = issued.appValue
            mode = issued.mode ?? mode
        }
        let state = InstallState.newStateValue()
        let now = hooks.now()
        try await states.save(
            InstallState(
                stateHash: InstallState.hash(of: state),
                appValue: appUser,
                mode: mode,
                createdAt: now,
                expiresAt: now.addingTimeInterval(configuration.install.stateLifetime)
            )
        )
        var response = Response(
            status: .found,
            headers: [.location: link.url(redirectURI: redirectURI, state: state), .cacheControl: "no-store"])
        response.setCookie(stateCookie(value: state, maxAge: Int(configuration.install.stateLifetime)))
        rejections.log(context.logger, .info, "install started", code: "none")
        return response
    }

    /// Activates the tenant's installation through the one write path the `account.application.*` handlers use,
    /// so the same ordering rule applies: a `deauthorized` event older than this install, processed later,
    /// changes nothing. Returns a page to answer with when a newer uninstall already superseded this install.
    ///
    /// - Parameters:
    ///   - occurredAt: When the install happened: the time Stripe signed the redirect (Stripe's clock, like the
    ///     events' `created`), or this server's time for OAuth redirects, which carry no signed time.
    func recordInstall(
        _ tenant: Tenant,
        source: InstallationChange.Source,
        occurredAt: Date,
        _ context: AppRequestContext,
        _ clearCookie: HTTPFields
    ) async throws -> Response? {
        let outcome = try await installations.apply(
            InstallationChange(
                tenant: tenant, action: .activate, source: source, occurredAt: occurredAt, recordedAt: hooks.now())
        )
        guard outcome == .superseded else { return nil }
        context.logger.warning(
            "install callback superseded: the app was uninstalled after this install",
            metadata: ["stripe.account": .string(tenant.accountID), "stripe.mode": .string(tenant.mode.description)])
        return page(
            .conflict, "install_superseded", "This installation was removed",
            "The app was uninstalled from this Stripe account after this installation. Install it again from the install link.",
            clearCookie)
    }

    /// The page for a state the callback does not know (any more): used, expired or never issued.
    func stateExpiredOrUsed(_ clearCookie: HTTPFields) -> Response {
        page(
            .badRequest, "state_expired_or_used", "This install link was already used or has expired",
            "Each install link works once, for \(Int(configuration.install.stateLifetime / 60)) minutes. Start again from the install link.",
            clearCookie)
    }

    /// A page when the state did not come back to the browser that started the install (double submit with the
    /// cookie), else `nil`. The page leaves the cookie alone: it may belong to an install this browser has under way.
    func browserMismatch(_ request: Request, state: String, _ context: AppRequestContext) -> Response? {
        guard let cookie = request.cookies[cookieName]?.value, ConstantTime.isEqual(cookie, state) else {
            rejections.log(
                context.logger, .warning, "install callback without the matching state cookie", code: "browser_mismatch"
            )
            return page(
                .badRequest, "browser_mismatch", "Start the installation again",
                "This installation was started in another browser, or this browser blocked the cookie that links the two steps. Open the install link again in this browser."
            )
        }
        return nil
    }

    private func stateCookie(value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: cookieName, value: value, maxAge: maxAge, path: "/", secure: isSecure, httpOnly: true, sameSite: .lax)
    }

    // MARK: /install/callback

    private func complete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        if let limited = rateLimited(request, context) { return limited }
        let query = request.uri.queryParameters
        func parameter(_ name: String) -> String? { query.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        // The cookie is cleared only once the state is gone (consumed, used or expired): a failure before that
        // leaves both, so a retry of the same redirect, once the cause is fixed, shows the real answer and not
        // `browser_mismatch`.
        var clearCookie = HTTPFields()
        clearCookie[.setCookie] = stateCookie(value: "", maxAge: 0).description

        // Any `error`, even empty: Stripe sends `error=access_denied` (and no `state`) when the user cancels.
        if let error = query.get("error") {
            return await cancelled(error: error, state: parameter("state"), request, context, clearCookie)
        }
        if let code = parameter("code"), parameter("install_signature") == nil {
            return try await completeOAuth(code: code, state: parameter("state"), request, context, clearCookie)
        }
        guard let userID = parameter("user_id"), let accountID = parameter("account_id"),
            let state = parameter("state"),
            let installSignature = parameter("install_signature")
        else {
            return page(
                .badRequest, "missing_parameters", "This install link is incomplete",
                "The redirect from Stripe lacks user_id, account_id, state or install_signature. Start again from the install link."
            )
        }
        guard StripeID.isValid(userID, prefix: "usr_"), StripeID.isValid(accountID, prefix: "acct_") else {
            return page(
                .badRequest, "invalid_parameters", "This install link is not valid",
                "The account or user id in the redirect is malformed.")
        }
        // `livemode` is not signed: it is only believed where it agrees with something that is (below).
        let claimedMode: Tenant.Mode
        switch parameter("livemode") {
        case nil, "true": claimedMode = .live
        case "false": claimedMode = .test
        default:
            return page(
                .badRequest, "invalid_parameters", "This install link is not valid", "livemode must be true or false.")
        }
        if let mismatch = browserMismatch(request, state: state, context) { return mismatch }
        let verifier = InstallSignatureVerifier(
            verifier: SignatureVerifier(
                keyring: try signing.keyring(), tolerance: configuration.install.signatureTolerance, now: hooks.now),
            schemes: configuration.install.acceptsLegacySignatures ? .officialAndLegacyAccountHMAC : .official
        )
        let verified: VerifiedInstallSignature
        do {
            verified = try verifier.verify(
                installSignature: installSignature,
                payload: InstallRedirectPayload(state: state, userID: userID, accountID: accountID)
            )
            metrics.recordVerification(.install, result: "valid")
        } catch {
            metrics.recordVerification(.install, result: "\(error.code)")
            rejections.log(context.logger, .warning, "install signature rejected", code: "\(error.code)")
            if error.code == .timestampOutsideTolerance {
                return page(
                    .badRequest, "signature_expired", "This install link has expired",
                    "The signed redirect from Stripe is too old. Start again from the install link.")
            }
            return page(
                .badRequest, "invalid_signature", "This install could not be verified",
                "The install signature does not match: the redirect did not come from Stripe for this app, or it was changed."
            )
        }
        let stateHash = InstallState.hash(of: state)
        guard let started = try await states.state(hash: stateHash, now: hooks.now()) else {
            return stateExpiredOrUsed(clearCookie)
        }
        if let startedFor = started.mode, startedFor != claimedMode {
            rejections.log(
                context.logger, .warning, "install redirect in another mode than started", code: "mode_mismatch")
            return page(
                .badRequest, "mode_mismatch", "This install could not be verified",
                "The installation was started for \(startedFor) mode, but the redirect says \(claimedMode) mode. Start again from the install link."
            )
        }
        let tenant = Tenant(accountID: accountID, mode: claimedMode)
        // Believed: the mode the install was started for, or test mode. A live install started without a mode is
        // recorded only once Stripe's signed `account.application.authorized` event for live mode says so.
        let confirmed = started.mode != nil || claimedMode == .test
        let signedAt = verified.timestamp.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? hooks.now()
        guard
            let outcome = try await completeInstall(
                stateHash: stateHash, tenant: tenant, userID: userID, source: .installCallback, confirmed: confirmed,
                occurredAt: signedAt, context, clearCookie)
        else { return stateExpiredOrUsed(clearCookie) }
        context.logger.info(
            "install completed",
            metadata: [
                "stripe.account": .string(accountID), "stripe.mode": .string(claimedMode.description),
                "stripe.secret": .string(verified.secretLabel),
                "install.legacy_signature": "\(verified.isLegacyScheme)",
                "install.mode_confirmed": "\(confirmed)",
            ]
        )
        return outcome
    }

    /// Consumes the state and, in the same transaction, queues the install's follow-up event (which records the
    /// installation and runs `onInstall`, retried until it succeeds) and, for an install started with a ticket,
    /// a link code; then records a confirmed installation at once, so the app works as soon as the user lands.
    ///
    /// - Returns: The answer (the onboarding link, the app's confirm page with the link code, or a page when a
    ///   newer uninstall superseded this install), or `nil` when the state was used or expired meanwhile.
    func completeInstall(
        stateHash: String,
        tenant: Tenant,
        userID: String?,
        source: InstallationChange.Source,
        confirmed: Bool,
        occurredAt: Date,
        _ context: AppRequestContext,
        _ clearCookie: HTTPFields
    ) async throws -> Response? {
        let now = hooks.now()
        let linkCode = InstallState.newStateValue()
        let install = configuration.install
        let followUp = InstallFollowUps.event(
            tenant: tenant, userID: userID, source: source, confirmed: confirmed, occurredAt: occurredAt,
            stateHash: stateHash, receivedAt: now)
        guard
            let consumed = try await states.complete(
                hash: stateHash, now: now,
                { consumed in
                    InstallFollowUp(
                        event: followUp,
                        linkCode: consumed.appValue.flatMap { appUser in
                            install.confirmURL == nil
                                ? nil
                                : InstallState(
                                    stateHash: InstallState.hash(of: linkCode), kind: .linkCode, appValue: appUser,
                                    tenant: tenant, userID: userID, createdAt: now,
                                    expiresAt: now.addingTimeInterval(install.linkCodeLifetime))
                        })
                })
        else { return nil }
        worker?.notify()
        if confirmed {
            // The follow-up records it too (the same change again changes nothing): a failure here loses nothing.
            do {
                if let superseded = try await recordInstall(
                    tenant, source: source, occurredAt: occurredAt, context, clearCookie)
                {
                    return superseded
                }
            } catch {
                context.logger.warning(
                    "install not recorded yet; its follow-up event will record it",
                    metadata: ["error": "\(LogRedaction.redact(String(describing: error)))"])
            }
        }
        if consumed.appValue != nil, let confirmURL = install.confirmURL {
            let separator = confirmURL.contains("?") ? "&" : "?"
            return Response(
                status: .found,
                headers: [
                    .location: confirmURL + separator + "link_code=" + linkCode, .cacheControl: "no-store",
                    .setCookie: clearCookie[.setCookie] ?? "",
                ])
        }
        return finish(tenant, clearCookie)
    }

    /// Runs `body`; a failure it throws (storage unreachable, …) is answered with an HTML page, never JSON: a
    /// person's browser is on these routes. Nothing was consumed when storage failed, so reloading retries.
    func answeringFailuresWithAPage(_ context: AppRequestContext, _ body: () async throws -> Response) async
        -> Response
    {
        do {
            return try await body()
        } catch {
            context.logger.error(
                "install request failed", metadata: ["error": "\(LogRedaction.redact(String(describing: error)))"])
            return page(
                .serviceUnavailable, "install_unavailable", "The installation could not be completed right now",
                "The app's server could not record the installation. Nothing was lost: reload this page in a minute, or start again from the install link.",
                [.retryAfter: "30"])
        }
    }

    /// The answer once installed: `INSTALL_SUCCESS_URL`, else the onboarding deep link, else a plain page.
    func finish(_ tenant: Tenant, _ clearCookie: HTTPFields) -> Response {
        let accountID = tenant.accountID
        let mode = tenant.mode
        if let successURL = configuration.install.successURL {
            return Response(
                status: .found,
                headers: [.location: successURL, .cacheControl: "no-store", .setCookie: clearCookie[.setCookie] ?? ""])
        }
        guard let appID = targets.appID else {
            return page(
                .ok, "installed", "App installed",
                "The app is installed. You can close this page and open the app in the Stripe Dashboard.", clearCookie)
        }
        let link = DeepLink(
            appID: appID,
            accountID: accountID,
            mode: mode,
            page: configuration.install.onboardingPage,
            target: configuration.install.onboardingTarget,
            viewport: configuration.install.onboardingViewport,
            dashboardBaseURL: targets.dashboardBaseURL
        )
        return Response(
            status: .found,
            headers: [.location: link.url, .cacheControl: "no-store", .setCookie: clearCookie[.setCookie] ?? ""])
    }

    /// A 429 page with `Retry-After` when the client used up its requests of the minute (`INSTALL_RATE_LIMIT_PER_MINUTE`),
    /// else `nil`. Every request here stores or consumes a state, so anonymous traffic is bounded per address.
    func rateLimited(_ request: Request, _ context: AppRequestContext) -> Response? {
        let client = configuration.clientAddress(of: request, peer: context.remoteAddress)
        guard let wait = limiter.take(client) else { return nil }
        let seconds = max(1, Int(wait.timeInterval.rounded(.up)))
        rejections.log(context.logger, .warning, "install request rate limited", code: "rate_limited")
        return page(
            .tooManyRequests, "rate_limited", "Too many requests",
            "This address opened too many install links in a minute. Wait \(seconds) s and try again.",
            [.retryAfter: "\(seconds)"])
    }

    func page(
        _ status: HTTPResponse.Status, _ code: String, _ title: String, _ message: String, _ headers: HTTPFields = [:]
    ) -> Response {
        metrics.recordInstall(outcome: code)
        return HTMLPage(status: status, code: code, title: title, message: message).response(headers: headers)
    }
}
