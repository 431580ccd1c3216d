import HTTPTypes
import StripeApps
import Synchronization

/// The app signing secrets and the UI routes' verifier, set once before the server accepts requests.
///
/// The router is built before storage runs, but in development mode the secret lives in storage: the
/// composition root reads it in `beforeServerStarts` and sets it here. Nothing can ask before then, since the
/// server is not listening; if something does, it gets 503, never an unverified pass.
final class AppSigning: Sendable {
    private let state = Mutex<(keyring: SigningKeyring, verifier: SignatureVerifier)?>(nil)

    /// Sets the keyring and the verifier built from it.
    func set(_ keyring: SigningKeyring, verifier: SignatureVerifier) {
        state.withLock { $0 = (keyring, verifier) }
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

    private static let starting = APIError(
        .serviceUnavailable, code: "starting", message: "The backend is starting; try again in a moment.")
}
