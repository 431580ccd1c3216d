#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Produces `Stripe-Signature` headers the way Stripe does: one `v1` per active secret.
///
/// Use it to test a backend without Stripe, to build the simulator's requests, or to sign the
/// `install_signature` of a stand-in marketplace.
public struct SignatureSigner: Sendable {
    /// The secrets to sign with; each contributes one `v1`.
    public let keyring: SigningKeyring
    /// The clock that supplies `t` when no timestamp is given.
    public let now: @Sendable () -> Date

    /// Creates a signer.
    ///
    /// - Parameters:
    ///   - keyring: The secrets to sign with.
    ///   - now: The current time.
    public init(keyring: SigningKeyring, now: @escaping @Sendable () -> Date = { Date() }) {
        self.keyring = keyring
        self.now = now
    }

    /// Signs a payload.
    ///
    /// - Parameters:
    ///   - payload: The exact bytes to sign.
    ///   - timestamp: The `t` to use, in Unix seconds; the current time when `nil`.
    /// - Returns: The header; send ``SignatureHeader/headerValue``.
    public func signatureHeader(for payload: some DataProtocol, timestamp: Int64? = nil) -> SignatureHeader {
        let t = timestamp ?? Int64(now().timeIntervalSince1970.rounded(.down))
        let macs = keyring.secrets.map { Array($0.authenticationCode(timestamp: t, payload: payload)) }
        return SignatureHeader(timestamp: t, signatures: macs)
    }
}
