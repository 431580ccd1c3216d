extension SignatureDiagnosis {
    /// How a secret is named in findings: its label and fingerprint, never its value.
    static func name(_ secret: SigningSecret) -> String {
        let label = secret.label.hasPrefix("#") ? secret.label : "\"\(secret.label)\""
        return "secret \(label) (sha256:\(secret.fingerprint))"
    }

    /// What is wrong with a secret for `purpose`, judged by its kind and its characters.
    static func findings(for secret: SigningSecret, purpose: Purpose?) -> [Finding] {
        var findings: [Finding] = []
        let name = name(secret)
        let kind = secret.kind
        let forApp =
            "UI-extension calls and install redirects are signed with the app's signing secret (absec_…): "
            + "the app's details → overflow menu → Signing secret"
        let forWebhook =
            "webhooks are signed with the endpoint's own secret (whsec_…): Workbench → Webhooks → the "
            + "endpoint → Signing secret (each endpoint and mode has its own, and stripe listen prints yet another)"
        switch kind {
        case .appSigningSecret where purpose == .webhook:
            findings.append(
                Finding(.secretIsAppSecret, .problem, "\(Self.capitalized(name)) is \(kind), but \(forWebhook)."))
        case .webhookSecret where purpose == .uiRequest || purpose == .installRedirect:
            findings.append(
                Finding(
                    .secretIsWebhookSecret, .problem,
                    "\(Self.capitalized(name)) is \(kind), but \(forApp). (Some Stripe libraries' messages mention "
                        + "whsec_ even for app signatures.)"))
        case .secretKey, .restrictedKey, .publishableKey:
            findings.append(
                Finding(
                    .secretIsAPIKey, .problem,
                    "\(Self.capitalized(name)) is \(kind): API keys authenticate your calls to Stripe and sign "
                        + "nothing. \(Self.capitalized(forApp)); \(forWebhook)."))
        case .developmentAppSecret:
            findings.append(
                Finding(
                    .secretIsDevelopmentSecret, .note,
                    "\(Self.capitalized(name)) is \(kind). Stripe never signs with it; only simulate and sign do. "
                        + "Requests from the Stripe Dashboard verify once STRIPE_APP_SECRETS holds the app's signing "
                        + "secret (absec_…)."))
        case .unknown:
            findings.append(
                Finding(
                    .secretUnknownKind, .note,
                    "\(Self.capitalized(name)) has no known Stripe prefix: app signing secrets start with absec_, "
                        + "webhook secrets with whsec_."))
        default: break
        }
        if secret.containsWhitespace {
            findings.append(
                Finding(
                    .secretWhitespace, .problem,
                    "\(Self.capitalized(name)) contains a space, tab or line break (often a newline pasted into an "
                        + "environment file). The whole string is the HMAC key, so it cannot match: remove it."))
        }
        if secret.keyBytes.contains(UInt8(ascii: ",")) {
            findings.append(
                Finding(
                    .secretIsAList, .problem,
                    "\(Self.capitalized(name)) contains a comma: it looks like a list of secrets given as one. Give "
                        + "each secret on its own (repeat --secret), or set them as a comma-separated variable."))
        }
        return findings
    }

    /// The secret as given, and the forms a copy-and-paste mistake suggests (whitespace removed, a list split).
    static func variants(of secret: SigningSecret) -> [Candidate<SigningSecret>] {
        var variants = [Candidate(value: secret, repairs: [])]
        let text = String(decoding: secret.keyBytes, as: UTF8.self)
        if secret.containsWhitespace,
            let stripped = try? SigningSecret(String(text.filter { !$0.isWhitespace }), label: secret.label)
        {
            variants.append(
                Candidate(
                    value: stripped,
                    repairs: [
                        Repair(
                            finding: findings(for: secret, purpose: nil).first { $0.code == .secretWhitespace }
                                ?? Finding(.secretWhitespace, .problem, ""),
                            change: "the whitespace is removed from the secret")
                    ]))
        }
        if secret.keyBytes.contains(UInt8(ascii: ",")) {
            for (index, piece) in text.split(separator: ",").enumerated().prefix(8) {
                let trimmed = piece.filter { !$0.isWhitespace }
                guard let part = try? SigningSecret(String(trimmed), label: "\(secret.label)[\(index)]") else {
                    continue
                }
                variants.append(
                    Candidate(
                        value: part,
                        repairs: [
                            Repair(
                                finding: findings(for: secret, purpose: nil).first { $0.code == .secretIsAList }
                                    ?? Finding(.secretIsAList, .problem, ""),
                                change: "the secret is split at its commas (entry \(index + 1) signed)")
                        ]))
            }
        }
        return variants
    }

    /// What the timestamp says, for a window of `tolerance` around `now` (both in Unix seconds).
    static func timeFindings(timestamp: Int64, now: Int64, tolerance: SignatureTolerance) -> [Finding] {
        var findings: [Finding] = []
        let (offset, overflow) = now.subtractingReportingOverflow(timestamp)
        if timestamp >= 100_000_000_000, (now - timestamp / 1000).magnitude < 86_400 * 366 {
            findings.append(
                Finding(
                    .timestampInMilliseconds, .problem,
                    "t=\(timestamp) looks like milliseconds (JavaScript's Date.now()); Stripe's t is in seconds, so "
                        + "this value was not made by Stripe."))
        }
        guard !overflow else { return findings }
        let window = tolerance.seconds
        if offset > window {
            findings.append(
                Finding(
                    .timestampTooOld, .problem,
                    "The signature was made \(duration(offset.magnitude)) before now; the window is \(window) s, so "
                        + "it is \(duration((offset - window).magnitude)) too old. A request saved and sent again later "
                        + "(a replay, a fixture, a retried job) does this, as does a server clock that is ahead: "
                        + "synchronise it with NTP. To check a saved request, verify it at the time it arrived "
                        + "(verify --now)."))
        } else if -offset > window {
            findings.append(
                Finding(
                    .timestampInFuture, .problem,
                    "The signature's time is \(duration(offset.magnitude)) after now; the window is \(window) s either "
                        + "side of now, so it is \(duration((-offset - window).magnitude)) too far ahead. The server's "
                        + "clock is behind (or the signer's ahead): synchronise it with NTP. Stripe's libraries accept "
                        + "any future t; this backend does not."))
        }
        return findings
    }

    /// `42 s`, or `3900 s (1 h 5 min)` past two minutes.
    static func duration(_ seconds: UInt64) -> String {
        guard seconds >= 120 else { return "\(seconds) s" }
        let days = seconds / 86_400
        let hours = seconds % 86_400 / 3600
        let minutes = seconds % 3600 / 60
        var parts: [String] = []
        if days > 0 { parts.append("\(days) d") }
        if hours > 0 { parts.append("\(hours) h") }
        if minutes > 0, days == 0 { parts.append("\(minutes) min") }
        return "\(seconds) s (\(parts.joined(separator: " ")))"
    }

    static func capitalized(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() }
}
