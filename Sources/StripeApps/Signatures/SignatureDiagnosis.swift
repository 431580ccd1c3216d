#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Explains in plain words why a signature does not verify (or confirms that it does).
///
/// Give it what a failed verification had: the secrets, the `Stripe-Signature` value and the payload. It verifies
/// exactly as ``SignatureVerifier`` does (its ``code`` is the verifier's error code, `nil` when valid), then looks
/// for the usual causes:
/// - the **secrets**: an API key (`sk_`, `rk_`) or a webhook secret (`whsec_`) where the app signing secret
///   (`absec_`) belongs, or the reverse; whitespace pasted into one; `serve`'s development secret;
/// - the **header**: its shape, its name or quotes pasted with it, URL encoding, spaces, two `t`, uppercase or cut
///   signatures;
/// - the **time**: how far the timestamp is outside the window, and in which direction;
/// - the **payload**: it tries the payloads a backend typically verifies by mistake — keys in another order, a
///   missing `user_id` or `account_id`, extra keys, a `mode` that was not signed (or one that was and is missing),
///   JSON re-serialized with spaces or `\u` escapes, a final newline — and says which one Stripe signed.
///
/// Every candidate is compared in constant time, as in verification; finding which candidate matches is diagnosis,
/// never acceptance: a request is accepted only by ``SignatureVerifier``. Secrets appear in ``findings`` and
/// ``summary`` only as label, kind and fingerprint, and payloads only by key names. ``signedPayload`` does hold the
/// payload that verifies, for offline tools; a server must not send it to a client.
///
/// ```swift
/// let diagnosis = SignatureDiagnosis(secrets: ["absec_…"], header: header, payload: body)
/// print(diagnosis.code.map(String.init(describing:)) ?? "valid")
/// print(diagnosis.explanation)
/// ```
public struct SignatureDiagnosis: Sendable {
    /// What the signature was for, which decides the secret that belongs to it.
    public struct Purpose: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// A UI-extension call (`fetchStripeSignature`), signed with the app signing secret.
        public static let uiRequest = Purpose("UI call")
        /// A webhook delivery, signed with the endpoint's secret.
        public static let webhook = Purpose("webhook")
        /// An install-link redirect's `install_signature`, signed with the app signing secret.
        public static let installRedirect = Purpose("install redirect")

        public var description: String { name }
    }

    /// The circumstances of the check.
    public struct Options: Sendable {
        /// What the signature was for; inferred from the payload when `nil` (an event, `state`, or ids).
        public var purpose: Purpose?
        /// The user id known apart from the payload (a GET's `Stripe-User-Id`, a CLI flag), to try when the payload
        /// lacks it.
        public var userID: String?
        /// The account id known apart from the payload.
        public var accountID: String?
        /// The time window, as the verifier's.
        public var tolerance: SignatureTolerance
        /// The time of the check.
        public var now: Date
        /// The payload limit, as the verifier's; a larger payload is not hashed at all.
        public var maximumPayloadBytes: Int

        /// Creates options.
        ///
        /// - Parameters:
        ///   - purpose: What the signature was for; `nil` to infer it from the payload.
        ///   - userID: A user id known apart from the payload.
        ///   - accountID: An account id known apart from the payload.
        ///   - tolerance: The verifier's window.
        ///   - now: The time of the check.
        ///   - maximumPayloadBytes: The verifier's payload limit.
        public init(
            purpose: Purpose? = nil,
            userID: String? = nil,
            accountID: String? = nil,
            tolerance: SignatureTolerance = .default,
            now: Date,
            maximumPayloadBytes: Int = SignatureVerifier.defaultMaximumPayloadBytes
        ) {
            self.purpose = purpose
            self.userID = userID
            self.accountID = accountID
            self.tolerance = tolerance
            self.now = now
            self.maximumPayloadBytes = maximumPayloadBytes
        }
    }

    /// The verifier's error code for this input, exactly as ``SignatureVerifier`` (or, for an empty secret,
    /// ``SigningKeyring``) reports it; `nil` when the signature verifies.
    public let code: SignatureError.Code?
    /// What the signature was for, given or inferred.
    public let purpose: Purpose?
    /// One or two sentences: what is wrong and what to do.
    public let summary: String
    /// Everything found, problems and notes, in the order they matter.
    public let findings: [Finding]
    /// The payload that verifies, when the diagnosis found one: the given payload, or the variant Stripe signed.
    /// It is the caller's own data; show it in offline tools only.
    public let signedPayload: [UInt8]?
    /// The secret that signed, as label, kind and fingerprint (``SigningSecret/safeDescription``), when one did.
    public let matchingSecret: String?
    /// `now − t` in seconds for the header's (first usable) timestamp: positive when the signature is in the past.
    public let timestampOffset: Int64?

    /// Whether the signature verifies as given.
    public var isValid: Bool { code == nil }

    /// The findings the summary does not already say in full.
    public var details: [Finding] { findings.filter { !summary.contains($0.message) } }

    /// The summary, then each finding on its own line: what the CLI prints and the server's development hint holds.
    public var explanation: String {
        ([summary] + details.map { "- \($0)" }).joined(separator: "\n")
    }

    /// Diagnoses a signature against secret strings, as `verify --secret` takes them (not trimmed).
    ///
    /// - Parameters:
    ///   - secrets: The secrets exactly as given; empty ones are reported (the verifier refuses them).
    ///   - header: The `Stripe-Signature` value (or the URL-decoded `install_signature`), `nil` when absent.
    ///   - payload: The bytes that were verified.
    ///   - options: The purpose, known ids, window and time.
    public init(secrets: [String], header: String?, payload: some DataProtocol, options: Options) {
        var built: [SigningSecret] = []
        var empty: [Int] = []
        for (index, secret) in secrets.enumerated() {
            if let secret = try? SigningSecret(secret, label: "#\(index)") {
                built.append(secret)
            } else {
                empty.append(index)
            }
        }
        self.init(
            secrets: built, emptySecretPositions: empty, header: header, payload: Array(payload), options: options)
    }

    /// Diagnoses a signature against a keyring, as a server holds its secrets.
    ///
    /// - Parameters:
    ///   - keyring: The secrets the verifier used.
    ///   - header: The `Stripe-Signature` value (or the URL-decoded `install_signature`), `nil` when absent.
    ///   - payload: The bytes that were verified.
    ///   - options: The purpose, known ids, window and time.
    public init(keyring: SigningKeyring, header: String?, payload: some DataProtocol, options: Options) {
        self.init(
            secrets: keyring.secrets, emptySecretPositions: [], header: header, payload: Array(payload),
            options: options)
    }

    private init(
        secrets: [SigningSecret], emptySecretPositions: [Int], header: String?, payload: [UInt8], options: Options
    ) {
        var diagnosis = Diagnosing(secrets: secrets, header: header, payload: payload, options: options)
        for position in emptySecretPositions {
            diagnosis.findings.append(
                Finding(
                    .secretEmpty, .problem,
                    "Secret #\(position) is empty: an unset environment variable expands to nothing. The verifier "
                        + "refuses an empty secret."))
        }
        let code: SignatureError.Code?
        if !emptySecretPositions.isEmpty || secrets.isEmpty {
            code = .emptySecret
        } else {
            code = diagnosis.strictCode()
        }
        diagnosis.run(code: code)
        self.code = code
        self.purpose = diagnosis.purpose
        self.summary = diagnosis.summary
        var seen: Set<Finding> = []
        self.findings = diagnosis.findings.filter { seen.insert($0).inserted }
        self.signedPayload = diagnosis.match?.payload
        self.matchingSecret = diagnosis.match?.secret.safeDescription
        self.timestampOffset = diagnosis.timestampOffset
    }
}
