import HTTPTypes
import Hummingbird
import Logging
import StripeApps

extension InstallController {
    /// The answer to a callback that carries `error=…`: nothing is installed or recorded.
    ///
    /// Stripe omits `state` when the user denies the install, so a callback without one only shows the "install
    /// cancelled" page and touches no storage. With a `state`, only the browser that started the install (its
    /// cookie) may end that state: anyone else could burn a victim's install link with an error callback. Stripe's
    /// `error` and `error_description` are never shown: a known `error` is explained in plain words, any other one
    /// gets a generic sentence.
    func cancelled(
        error: String, state: String?, _ request: Request, _ context: AppRequestContext, _ clearCookie: HTTPFields
    ) async -> Response {
        // The cookie is cleared only with the state it carried: another browser's callback leaves this one's alone.
        var cookie = HTTPFields()
        if let state, browserMismatch(request, state: state, context) == nil {
            _ = try? await states.consume(hash: InstallState.hash(of: state), now: hooks.now())
            cookie = clearCookie
        }
        let reason = oauthErrors[error]
        context.logger.info(
            "install returned an error",
            metadata: [
                "install.error": .string(reason == nil ? "other" : error),
                "install.state": .string(state == nil ? "absent" : "present"),
            ])
        let startAgain = "You can start again from the install link."
        if error == "access_denied" || state == nil {
            let why =
                error == "access_denied"
                ? "the installation was cancelled in Stripe."
                : "Stripe ended the installation (\(reason ?? "with an error this app does not know"))."
            return page(
                .badRequest, "install_cancelled", "Installation cancelled",
                "The app was not installed: \(why) Nothing was installed or recorded. \(startAgain)", cookie)
        }
        return page(
            .badRequest, "install_error", "Installation failed",
            "Stripe reported an error (\(reason ?? "one this app does not know")) and the app was not installed. "
                + startAgain,
            cookie)
    }
}

/// The `error` values of OAuth 2.0 (RFC 6749, section 4.1.2.1) an authorization redirect may carry, in plain words.
private let oauthErrors: [String: String] = [
    "access_denied": "the installation was declined",
    "invalid_request": "the install link is malformed or lacks a parameter",
    "unauthorized_client": "this app may not be installed this way",
    "unsupported_response_type": "the install link asks for something Stripe does not support",
    "invalid_scope": "the install link asks for permissions Stripe refused",
    "server_error": "Stripe had an internal error",
    "temporarily_unavailable": "Stripe is temporarily unavailable; try again in a few minutes",
]
