#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension SignatureDiagnosis {
    /// A change to the input under which the signature verifies, with the finding that explains it.
    struct Repair: Hashable {
        let finding: Finding
        /// What the change does, as the end of "it verifies once …".
        let change: String
    }

    /// A value the diagnosis tries, with the changes that produced it from the input.
    struct Candidate<Value> {
        let value: Value
        let repairs: [Repair]
    }

    /// A lenient reading of a header value: every `t` and `v1` a careless copy may have left in it, each with the
    /// repairs it needed, and what is wrong with the value as sent.
    ///
    /// It only guides the diagnosis; verification itself stays with ``SignatureVerifier`` and its strict rules.
    struct HeaderReading {
        /// Problems that apply to the whole value (its name, quotes, URL encoding), in the order found.
        var globalRepairs: [Repair] = []
        /// Problems of single elements, reported whether or not a repaired element verifies.
        var elementProblems: [Repair] = []
        var timestamps: [Candidate<Int64>] = []
        var signatures: [Candidate<[UInt8]>] = []
        var v0Count = 0
        var otherCount = 0
        /// The value is a bare 64-hex-digit MAC: the blog's legacy install scheme.
        var legacyMAC: [UInt8]?
        var shape: Finding?

        init(_ header: String) {
            var text = Substring(header)
            if text.lowercased().hasPrefix("stripe-signature:") {
                text = text.dropFirst("stripe-signature:".count).drop { $0 == " " || $0 == "\t" }
                globalRepairs.append(
                    Repair(
                        finding: Finding(
                            .headerIncludesName, .problem,
                            "The value starts with the header's name (Stripe-Signature:): pass only what follows the "
                                + "colon."),
                        change: "the header's name is removed"))
            }
            if text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first {
                text = text.dropFirst().dropLast()
                globalRepairs.append(
                    Repair(
                        finding: Finding(
                            .headerQuoted, .problem, "The value is wrapped in quotes, which are not part of it."),
                        change: "the quotes are removed"))
            }
            let lowered = text.lowercased()
            if lowered.contains("%3d") || lowered.contains("%2c"), let decoded = URLComponentEncoding.decode(text) {
                text = Substring(decoded)
                globalRepairs.append(
                    Repair(
                        finding: Finding(
                            .headerURLEncoded, .problem,
                            "The value is still URL-encoded (t%3D…%2Cv1%3D…). install_signature arrives URL-encoded in "
                                + "the redirect's query: decode it once, as every query parser does, before verifying."),
                        change: "the value is URL-decoded"))
            }
            if text.utf8.count == 64, let mac = Self.decode(lowercaseHex: text) {
                legacyMAC = mac
                elementProblems.append(
                    Repair(
                        finding: Finding(
                            .headerLegacyInstallHMAC, .problem,
                            "The value is 64 hex digits and no t=: the legacy install scheme of a blog post (a bare "
                                + "HMAC of the account id), not Stripe's documented t=…,v1=…. The backend accepts it "
                                + "only with INSTALL_SIGNATURE_LEGACY_HMAC=true."),
                        change: "it is read as the legacy account-id HMAC"))
                return
            }
            readElements(text)
        }

        private mutating func readElements(_ text: Substring) {
            var timestampTexts: [String] = []
            var hasWhitespace = false
            for element in text.split(separator: ",", omittingEmptySubsequences: true) {
                let trimmed = element.trimmingCharacters(in: Self.isSpace)
                let padded = trimmed.count != element.count
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                let key = trimmed[..<equals]
                let value = trimmed[trimmed.index(after: equals)...]
                switch key {
                case "t":
                    timestampTexts.append(String(value))
                    if padded { hasWhitespace = true }
                    readTimestamp(value, padded: padded)
                case "v1":
                    if padded { hasWhitespace = true }
                    readSignature(value, padded: padded)
                case "v0": v0Count += 1
                default: otherCount += 1
                }
            }
            if hasWhitespace { elementProblems.insert(Self.whitespaceRepair, at: 0) }
            if timestampTexts.isEmpty {
                elementProblems.append(
                    Repair(
                        finding: Finding(
                            .headerNoTimestamp, .problem,
                            "There is no t element: a Stripe signature is t=<Unix seconds>,v1=<64 hex digits>."),
                        change: ""))
            }
            if timestampTexts.count > 1 {
                let finding = Finding(
                    .headerDuplicateTimestamp, .problem,
                    "The value has \(timestampTexts.count) t elements: two Stripe-Signature header lines were joined "
                        + "(by a proxy, or a client that adds its own), or a value was pasted twice. stripe-python "
                        + "takes the first t and stripe-node the last; this backend refuses the value, since they "
                        + "disagree. Send exactly one.")
                elementProblems.append(Repair(finding: finding, change: ""))
                let last = timestamps.count - 1
                timestamps = timestamps.enumerated().map { index, candidate in
                    let which =
                        index == 0
                        ? "only the first t is kept (as stripe-python does)"
                        : index == last
                            ? "only the last t is kept (as stripe-node does)" : "only t number \(index + 1) is kept"
                    return Candidate(
                        value: candidate.value, repairs: candidate.repairs + [Repair(finding: finding, change: which)])
                }
            }
            if signatures.isEmpty {
                let v0 = v0Count > 0 ? " It has a v0 (the old test-mode scheme), which is ignored." : ""
                elementProblems.append(
                    Repair(
                        finding: Finding(
                            .headerNoV1, .problem,
                            "There is no usable v1 element: Stripe puts one v1 (64 lowercase hex digits) per active "
                                + "secret in the value.\(v0)"),
                        change: ""))
            }
            let usable = signatures.filter { $0.repairs.isEmpty }.count
            let t =
                timestamps.first.map { candidate in
                    let date = Date(timeIntervalSince1970: TimeInterval(candidate.value))
                    return "t=\(candidate.value) (\(date.formatted(.iso8601)))"
                } ?? "no t"
            var parts = ["\(t)", "\(signatures.count) v1 signature\(signatures.count == 1 ? "" : "s")"]
            if usable != signatures.count { parts[1] += " (\(usable) as sent)" }
            if v0Count > 0 { parts.append("\(v0Count) v0 (ignored)") }
            if otherCount > 0 { parts.append("\(otherCount) other element\(otherCount == 1 ? "" : "s") (ignored)") }
            shape = Finding(.headerShape, .note, "The header has " + parts.joined(separator: ", ") + ".")
        }

        private mutating func readTimestamp(_ value: Substring, padded: Bool) {
            var repairs = padded ? [Self.whitespaceRepair] : []
            var digits = value
            if !value.isEmpty, !value.allSatisfy(\.isASCIIDigit) {
                digits = value.prefix { $0.isASCIIDigit }
                let shown = value.count > 24 ? value.prefix(24) + "…" : value
                let repair = Repair(
                    finding: Finding(
                        .timestampNotInteger, .problem,
                        "t=\(shown) is not a whole number of seconds. Stripe signs t as an integer (Unix seconds)."),
                    change: "t is read as the whole number \(digits)")
                elementProblems.append(repair)
                repairs.append(repair)
            }
            guard !digits.isEmpty, digits.count <= 18, let seconds = Int64(digits) else { return }
            timestamps.append(Candidate(value: seconds, repairs: repairs))
        }

        private mutating func readSignature(_ value: Substring, padded: Bool) {
            var repairs = padded ? [Self.whitespaceRepair] : []
            guard value.utf8.count == 64 else {
                elementProblems.append(
                    Repair(
                        finding: Finding(
                            .signatureWrongLength, .problem,
                            "A v1 has \(value.utf8.count) characters instead of 64 hex digits: it was cut off or "
                                + "padded when it was copied."),
                        change: ""))
                return
            }
            if let mac = Self.decode(lowercaseHex: value) {
                signatures.append(Candidate(value: mac, repairs: repairs))
            } else if let mac = Self.decode(lowercaseHex: Substring(value.lowercased())) {
                let repair = Repair(
                    finding: Finding(
                        .signatureUppercase, .problem,
                        "A v1 is in uppercase hex. Stripe sends lowercase, and this backend (like stripe-node and "
                            + "stripe-python) compares it as sent: something changed its case."),
                    change: "the v1 is lower-cased")
                elementProblems.append(repair)
                repairs.append(repair)
                signatures.append(Candidate(value: mac, repairs: repairs))
            } else {
                elementProblems.append(
                    Repair(
                        finding: Finding(
                            .signatureWrongLength, .problem, "A v1 has characters that are not hex digits."),
                        change: ""))
            }
        }

        /// Every problem found, each once, in order.
        var problems: [Finding] {
            var seen: Set<Finding> = []
            return (globalRepairs + elementProblems).map(\.finding).filter { seen.insert($0).inserted }
        }

        private static let whitespaceRepair = Repair(
            finding: Finding(
                .headerWhitespace, .problem,
                "There is a space or line break around an element (as in t=…, v1=…). The elements are split on "
                    + "commas only, so \" v1\" is not a v1 and is ignored, by this backend as by stripe-node and "
                    + "stripe-python. Stripe never sends spaces: a proxy, a copy and paste, or a header folded over "
                    + "two lines added them."),
            change: "the spaces around its elements are removed")

        private static func isSpace(_ character: Character) -> Bool {
            character == " " || character == "\t" || character == "\n" || character == "\r" || character == "\r\n"
        }

        private static func decode(lowercaseHex text: Substring) -> [UInt8]? {
            var bytes: [UInt8] = []
            var copy = String(text)
            let ok = copy.withUTF8 { Hex.decodeLowercase($0, byteCount: 32, appendingTo: &bytes) }
            return ok ? bytes : nil
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let first = result.first, predicate(first) { result = result.dropFirst() }
        while let last = result.last, predicate(last) { result = result.dropLast() }
        return result
    }
}
