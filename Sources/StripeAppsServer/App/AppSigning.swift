import Foundation
import HTTPTypes
import StripeApps
import Synchronization

/// The app signing secrets, the UI routes' verifier and the webhook endpoints' verifiers, set once before the
/// server accepts requests.
///
/// The router is built before storage runs, but in development mode the secrets live in storage: the
/// composition root reads them in `beforeServerStarts` and sets them here. Nothing can ask before then, since the
/// server is not listening; if something does, it gets 503, never an unverified pass.
final class AppSigning: Sendable {
    private struct State {
        var keyring: SigningKeyring
        var verifier: SignatureVerifier
        var webhookLive: SignatureVerifier?
        var webhookTest: SignatureVerifier?
    }

    private let state = Mutex<State?>(nil)

    /// Sets the app keyring, and the verifiers of the UI routes and of each webhook endpoint (none for an endpoint
    /// with no secret), all with the configuration's time window and body limit.
    func set(
        configuration: AppConfiguration, keyring: SigningKeyring,
        webhooks: (live: SigningKeyring?, test: SigningKeyring?), now: @escaping @Sendable () -> Date
    ) {
        func verifier(_ keyring: SigningKeyring) -> SignatureVerifier {
            SignatureVerifier(
                keyring: keyring, tolerance: configuration.signatureTolerance,
                maximumPayloadBytes: configuration.maximumBodyBytes, now: now)
        }
        let state = State(
            keyring: keyring, verifier: verifier(keyring), webhookLive: webhooks.live.map(verifier),
            webhookTest: webhooks.test.map(verifier))
        self.state.withLock { $0 = state }
    }

    /// The app signing secrets.
    func keyring() throws(APIError) -> SigningKeyring {
        guard let keyring = state.withLock({ $0?.keyring }) else { throw Self.starting }
        return keyring
    }

    /// The verifier of signed UI requests.
    func verifier() throws(APIError) -> SignatureVerifier {
        guard let verifier = state.withLock({ $0?.verifier }) else { throw Self.starting }
        return verifier
    }

    /// The verifier of one webhook endpoint, or `nil` when it has no secret.
    func webhookVerifier(isLiveEndpoint: Bool) throws(APIError) -> SignatureVerifier? {
        let found = state.withLock { state in state.map { isLiveEndpoint ? $0.webhookLive : $0.webhookTest } }
        guard let found else { throw Self.starting }
        return found
    }

    private static let starting = APIError(
        .serviceUnavailable, code: "starting", message: "The backend is starting; try again in a moment.")
}
