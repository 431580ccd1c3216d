import Crypto

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Verifies Stripe signatures (`Stripe-Signature`, `install_signature`) against a keyring.
///
/// One verifier serves one purpose: build one with the app signing secrets for UI-extension calls and
/// install redirects, and one per webhook endpoint with that endpoint's secrets. Verification:
/// 1. rejects a payload over ``maximumPayloadBytes`` before any hashing;
/// 2. parses the header (see ``SignatureHeader``);
/// 3. computes `HMAC-SHA256(secret, "<t>." + payload)` once per secret and compares it in constant time
///    with every `v1` (the order of `v1` elements does not matter);
/// 4. only for an authentic signature, checks the two-sided time window around ``now``.
///
/// Verify the exact bytes that were signed: the raw request body, never a parsed and re-encoded one.
public struct SignatureVerifier: Sendable {
    /// The secrets any of which may have signed the payload.
    public let keyring: SigningKeyring
    /// The time window around now.
    public let tolerance: SignatureTolerance
    /// The largest payload that is hashed at all; larger ones fail with ``SignatureError/Code/payloadTooLarge``.
    public let maximumPayloadBytes: Int
    /// The wall clock; injected so tests can pin it.
    public let now: @Sendable () -> Date

    /// The default payload limit, 1 MiB.
    public static let defaultMaximumPayloadBytes = 1 << 20

    /// Creates a verifier.
    ///
    /// - Parameters:
    ///   - keyring: The active secrets for this purpose.
    ///   - tolerance: The time window; five minutes unless configured.
    ///   - maximumPayloadBytes: The payload size limit, checked before hashing.
    ///   - now: The current time. Tests pass a fixed date.
    public init(
        keyring: SigningKeyring,
        tolerance: SignatureTolerance = .default,
        maximumPayloadBytes: Int = SignatureVerifier.defaultMaximumPayloadBytes,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.keyring = keyring
        self.tolerance = tolerance
        self.maximumPayloadBytes = maximumPayloadBytes
        self.now = now
    }

    /// Verifies a payload against a header value.
    ///
    /// - Parameters:
    ///   - payload: The exact signed bytes: a raw request body, or a payload rebuilt by ``UIRequestPayload``
    ///     or ``InstallRedirectPayload``.
    ///   - header: The `Stripe-Signature` value, or `nil` when the header is absent.
    /// - Returns: Which secret matched and the signature time.
    /// - Throws: ``SignatureError``; its code says why, its message is safe to log.
    @inlinable
    public func verify(payload: some DataProtocol, header: String?) throws(SignatureError) -> VerifiedSignature {
        try withContiguousBytes(of: payload) { verify(contiguousPayload: $0, header: header) }.get()
    }

    /// The non-generic, allocation-free path behind ``verify(payload:header:)``.
    @usableFromInline
    func verify(contiguousPayload payload: UnsafeRawBufferPointer, header: String?)
        -> Result<VerifiedSignature, SignatureError>
    {
        do {
            try checkSize(payload.count)
        } catch {
            return .failure(error)
        }
        guard var header, !header.isEmpty else { return .failure(SignatureError(.missingHeader)) }
        return header.withUTF8 { bytes in
            let timestamp: Int64
            switch HeaderScanner.scan(bytes) {
            case .success(let scanned): timestamp = scanned.timestamp
            case .failure(let error): return .failure(error)
            }
            for (index, secret) in keyring.secrets.enumerated() {
                let mac = secret.authenticationCode(timestamp: timestamp, payload: payload)
                if HeaderScanner.containsV1(in: bytes, where: { ConstantTime.isEqual(mac, hex: $0) }) {
                    return Result { () throws(SignatureError) in try verified(secretIndex: index, timestamp: timestamp)
                    }
                }
            }
            return .failure(SignatureError(.noMatchingSignature))
        }
    }

    /// Checks the time window for an authentic signature.
    private func verified(secretIndex: Int, timestamp: Int64) throws(SignatureError) -> VerifiedSignature {
        let nowSeconds = Int64(now().timeIntervalSince1970.rounded(.down))
        guard tolerance.contains(timestamp, now: nowSeconds) else {
            let direction = timestamp > nowSeconds ? "in the future" : "old"
            let distance = nowSeconds.subtractingReportingOverflow(timestamp).partialValue.magnitude
            throw SignatureError(
                .timestampOutsideTolerance,
                message: "The signature is \(distance) s \(direction); at most \(tolerance.seconds) s is accepted. "
                    + "Check the server clock."
            )
        }
        let secret = keyring.secrets[secretIndex]
        return VerifiedSignature(
            timestamp: timestamp,
            secretIndex: secretIndex,
            secretLabel: secret.label,
            secretFingerprint: secret.fingerprint
        )
    }

    private func checkSize(_ count: Int) throws(SignatureError) {
        guard count <= maximumPayloadBytes else {
            throw SignatureError(
                .payloadTooLarge,
                message: "The payload is \(count) bytes; the limit is \(maximumPayloadBytes) bytes."
            )
        }
    }
}
