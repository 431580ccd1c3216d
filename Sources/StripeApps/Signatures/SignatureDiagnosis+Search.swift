#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension SignatureDiagnosis {
    /// A secret, a time and a payload whose MAC is one of the header's `v1`, and what had to change to get there.
    struct Match {
        let secret: SigningSecret
        /// `nil` for the legacy install HMAC, which has no time.
        let timestamp: Int64?
        let payload: [UInt8]
        let repairs: [Repair]
        /// How the secret the caller gave is named (a repaired secret has another fingerprint).
        let givenName: String
    }

    /// Payloads above this size are checked as given and trimmed only: no JSON variants, so a diagnosis stays cheap.
    static let maximumVariedPayloadBytes = 256 * 1024

    /// A secret candidate and how the secret it came from is named.
    struct NamedSecret {
        let candidate: Candidate<SigningSecret>
        let givenName: String
        var value: SigningSecret { candidate.value }
        var repairs: [Repair] { candidate.repairs }
    }

    /// The work of one diagnosis.
    struct Diagnosing {
        let secrets: [SigningSecret]
        let header: String?
        let payload: [UInt8]
        let options: Options
        let parsed: PayloadValue?
        let purpose: Purpose?
        var findings: [Finding] = []
        var summary = ""
        var match: Match?
        var timestampOffset: Int64?

        init(secrets: [SigningSecret], header: String?, payload: [UInt8], options: Options) {
            self.secrets = secrets
            self.header = header
            self.payload = payload
            self.options = options
            let parsed =
                payload.count <= min(options.maximumPayloadBytes, SignatureDiagnosis.maximumVariedPayloadBytes)
                ? try? PayloadValue.parse(payload) : nil
            self.parsed = parsed
            self.purpose = options.purpose ?? SignatureDiagnosis.inferPurpose(parsed)
        }

        private var nowSeconds: Int64 { Int64(options.now.timeIntervalSince1970.rounded(.down)) }

        /// The code ``SignatureVerifier`` gives this input.
        func strictCode() -> SignatureError.Code? {
            guard let keyring = try? SigningKeyring(secrets) else { return .emptySecret }
            let now = options.now
            let verifier = SignatureVerifier(
                keyring: keyring, tolerance: options.tolerance, maximumPayloadBytes: options.maximumPayloadBytes,
                now: { now })
            do {
                _ = try verifier.verify(payload: payload, header: header)
                return nil
            } catch {
                return error.code
            }
        }

        mutating func run(code: SignatureError.Code?) {
            for secret in secrets { findings += SignatureDiagnosis.findings(for: secret, purpose: purpose) }
            defer {
                findings = findings.filter { $0.severity == .problem } + findings.filter { $0.severity != .problem }
            }
            let empty = code == .emptySecret ? findings.first { $0.code == .secretEmpty } : nil
            // Nothing to compare: no header, or a payload that is never hashed.
            var stop: Finding?
            if header?.isEmpty ?? true {
                stop = Finding(.headerMissing, .problem, headerMissingMessage)
            } else if payload.count > options.maximumPayloadBytes {
                stop = Finding(
                    .payloadTooLarge, .problem,
                    "The payload is \(payload.count) bytes; the limit is \(options.maximumPayloadBytes) bytes "
                        + "(MAX_BODY_BYTES), checked before any hashing. Raise the limit if such payloads are expected."
                )
            }
            if let stop {
                conclude(with: stop)
                if let empty { summary = empty.message }
                return
            }
            let reading = HeaderReading(header ?? "")
            if let shape = reading.shape { findings.append(shape) }
            findings += reading.problems
            let payloads = PayloadReading(
                payload, parsed: parsed, purpose: purpose, userID: options.userID, accountID: options.accountID)
            findings += payloads.problems
            match = search(reading, payloads)
            if let empty {
                summary = empty.message
                if let match, match.repairs.isEmpty {
                    summary += " Without it, the signature verifies with \(match.givenName)."
                }
            } else if let match {
                explain(match, code: code)
            } else {
                explainNoMatch(reading, code: code)
            }
        }

        private mutating func conclude(with finding: Finding) {
            findings.insert(finding, at: 0)
            summary = finding.message
        }

        private mutating func explain(_ match: Match, code: SignatureError.Code?) {
            let name = SignatureDiagnosis.name(match.secret)
            var time: [Finding] = []
            if let timestamp = match.timestamp {
                timestampOffset = nowSeconds.subtractingReportingOverflow(timestamp).partialValue
                time = SignatureDiagnosis.timeFindings(
                    timestamp: timestamp, now: nowSeconds, tolerance: options.tolerance)
            }
            if code == nil {
                let offset = timestampOffset ?? 0
                let when =
                    offset >= 0
                    ? "\(SignatureDiagnosis.duration(offset.magnitude)) ago"
                    : "\(SignatureDiagnosis.duration(offset.magnitude)) ahead of now"
                conclude(
                    with: Finding(
                        .verifies, .note,
                        "The signature verifies: \(name) signed this payload \(when), within the "
                            + "\(options.tolerance.seconds) s window."))
                return
            }
            let repairs = match.repairs.map(\.finding)
            findings = repairs + time + findings
            if repairs.isEmpty {
                summary =
                    "The signature is authentic (\(name) signed this payload), but its time is outside the window. "
                    + (time.first?.message ?? "")
                return
            }
            var changes: [String] = []
            for repair in match.repairs where !repair.change.isEmpty && !changes.contains(repair.change) {
                changes.append(repair.change)
            }
            summary =
                "The signature is authentic, but not for the input as given: it verifies with \(match.givenName) once "
                + "\(Self.list(changes))."
            if let late = time.first { summary += " Even then, it is outside the window: " + late.message }
        }

        private mutating func explainNoMatch(_ reading: HeaderReading, code: SignatureError.Code?) {
            if let timestamp = reading.timestamps.first?.value {
                timestampOffset = nowSeconds.subtractingReportingOverflow(timestamp).partialValue
                findings += SignatureDiagnosis.timeFindings(
                    timestamp: timestamp, now: nowSeconds, tolerance: options.tolerance)
            }
            if code == .malformedHeader || code == .noSignatureWithExpectedScheme,
                let problem = reading.problems.first
            {
                summary = "The header cannot be used as sent. " + problem.message
                return
            }
            if secrets.isEmpty, let problem = findings.first(where: { $0.severity == .problem }) {
                summary = problem.message
                return
            }
            let lead =
                secrets.count == 1
                ? "The secret given did not make this signature."
                : "None of the \(secrets.count) secrets given made this signature."
            if let problem = findings.first(where: { $0.severity == .problem }) {
                summary = lead + " " + problem.message
                return
            }
            let unexplained = Finding(.noExplanation, .problem, noExplanationMessage)
            findings.insert(unexplained, at: 0)
            summary = lead + " " + unexplained.message
        }

        /// Every combination of secret, time, payload and `v1` candidates, hashed once per secret, time and payload
        /// and compared in constant time; the match needing the fewest repairs wins.
        private func search(_ header: HeaderReading, _ payloads: PayloadReading) -> Match? {
            let secretVariants = secrets.flatMap { secret in
                SignatureDiagnosis.variants(of: secret).map {
                    NamedSecret(candidate: $0, givenName: SignatureDiagnosis.name(secret))
                }
            }
            if let legacy = header.legacyMAC {
                return legacyMatch(legacy, secretVariants: secretVariants, header: header)
            }
            var best: Match?
            var bestCost = Int.max
            for secret in secretVariants {
                for timestamp in header.timestamps {
                    for candidate in payloads.variants {
                        let cost =
                            header.globalRepairs.count + secret.repairs.count + timestamp.repairs.count
                            + candidate.repairs.count
                        guard cost < bestCost else { continue }
                        let mac = secret.value.authenticationCode(timestamp: timestamp.value, payload: candidate.value)
                        for signature in header.signatures where cost + signature.repairs.count < bestCost {
                            guard signature.value.withUnsafeBytes({ ConstantTime.isEqual(mac, bytes: $0) }) else {
                                continue
                            }
                            let repairs =
                                header.globalRepairs + secret.repairs + timestamp.repairs + candidate.repairs
                                + signature.repairs
                            var seen: Set<Repair> = []
                            best = Match(
                                secret: secret.value, timestamp: timestamp.value, payload: candidate.value,
                                repairs: repairs.filter { seen.insert($0).inserted }, givenName: secret.givenName)
                            bestCost = cost + signature.repairs.count
                        }
                    }
                }
            }
            return best
        }

        /// The legacy install scheme: a bare HMAC of the account id, with no time.
        private func legacyMatch(
            _ legacy: [UInt8], secretVariants: [NamedSecret], header: HeaderReading
        ) -> Match? {
            guard let accountID = parsed?["account_id"]?.stringValue ?? options.accountID else { return nil }
            let message = Array(accountID.utf8)
            for secret in secretVariants {
                let mac = message.withUnsafeBytes {
                    secret.value.mac.authenticationCode(UnsafeRawBufferPointer(start: nil, count: 0), $0)
                }
                if legacy.withUnsafeBytes({ ConstantTime.isEqual(mac, bytes: $0) }) {
                    return Match(
                        secret: secret.value, timestamp: nil, payload: message,
                        repairs: header.globalRepairs + header.elementProblems + secret.repairs,
                        givenName: secret.givenName)
                }
            }
            return nil
        }

        private var headerMissingMessage: String {
            switch purpose {
            case .webhook?:
                "No Stripe-Signature header was sent. Stripe signs every webhook delivery: a request without one did "
                    + "not come from Stripe, or a proxy removed the header."
            case .installRedirect?:
                "The redirect has no install_signature. Stripe adds it to every successful install redirect; a "
                    + "redirect without it (and without error=…) was not made by Stripe."
            default:
                "No Stripe-Signature header was sent. The extension must send the value fetchStripeSignature() "
                    + "resolves to as the Stripe-Signature header of the same request. A proxy or framework that "
                    + "drops unknown headers also causes this (Node lower-cases header names: read "
                    + "req.headers['stripe-signature'])."
            }
        }

        private var noExplanationMessage: String {
            if !secrets.isEmpty, secrets.allSatisfy({ $0.kind == .developmentAppSecret }) {
                return "This server is in development mode and verifies with its development secret, which Stripe "
                    + "does not have: requests from the Stripe Dashboard verify only once STRIPE_APP_SECRETS holds the "
                    + "app's signing secret (absec_…). simulate ui sends requests signed with the development secret."
            }
            switch purpose {
            case .webhook?:
                return "No usual mistake in the header or the payload explains it, so most likely the secret is not "
                    + "this endpoint's: each endpoint and mode has its own whsec_…, the Dashboard's and stripe "
                    + "listen's differ, and rolling a secret replaces it. A proxy that changes the body (compression, "
                    + "re-encoding) also causes this."
            default:
                return "No usual mistake in the header or the payload explains it, so most likely the secret is not "
                    + "the one Stripe signed with: use the app's signing secret (absec_…) from the app's details → "
                    + "Signing secret (during a rotation, both the old and the new one). A payload changed after "
                    + "signing (values added or renamed) cannot match either."
            }
        }

        private static func list(_ items: [String]) -> String {
            switch items.count {
            case 0: ""
            case 1: items[0]
            default: items.dropLast().joined(separator: ", ") + " and " + (items.last ?? "")
            }
        }
    }
}
