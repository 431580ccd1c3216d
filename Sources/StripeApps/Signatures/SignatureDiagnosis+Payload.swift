extension SignatureDiagnosis {
    /// The payloads the diagnosis tries besides the one given: the usual ways a backend's bytes differ from what
    /// Stripe signed, each with the repairs that lead to it, fewest repairs first.
    struct PayloadReading {
        var variants: [Candidate<[UInt8]>] = []
        /// Problems that stand whatever verifies (no JSON, no ids).
        var problems: [Finding] = []

        static let maximumVariants = 48

        init(_ payload: [UInt8], parsed: PayloadValue?, purpose: Purpose?, userID: String?, accountID: String?) {
            variants.append(Candidate(value: payload, repairs: []))
            let trimmed = Array(
                payload.drop(while: SigningSecret.isWhitespace).reversed().drop(while: SigningSecret.isWhitespace)
                    .reversed())
            var base: [Repair] = []
            if trimmed.count != payload.count {
                base.append(
                    Repair(
                        finding: Finding(
                            .payloadSurroundingWhitespace, .problem,
                            "The payload has whitespace or a line break before or after it (a file saved with a final "
                                + "newline, or a body a framework padded). Verify the body exactly as received."),
                        change: "the whitespace around the payload is removed"))
                variants.append(Candidate(value: trimmed, repairs: base))
            }
            guard let parsed else {
                if payload.isEmpty {
                    problems.append(Finding(.payloadEmpty, .problem, Self.emptyMessage(purpose)))
                } else if purpose != .installRedirect {
                    problems.append(
                        Finding(
                            .payloadNotJSON, purpose == nil ? .note : .problem,
                            "The payload is not JSON. UI calls sign a JSON object and webhooks carry one: check that "
                                + "it is the body as received, not a form, a file name or a decoded value."))
                }
                return
            }
            let compact = Array(parsed.jsonString.utf8)
            if compact != trimmed {
                base.append(
                    Repair(
                        finding: Finding(
                            .payloadReserialized, .problem,
                            "The JSON was parsed and written again before it was verified: "
                                + Self.reserializationDifferences(trimmed).joined(separator: "; ")
                                + ". Stripe signed the exact text (for UI calls, what JSON.stringify produced): verify "
                                + "the raw body as received, and parse it only afterwards."),
                        change: "the JSON is written compactly (as JSON.stringify writes it)"))
                variants.append(Candidate(value: compact, repairs: base))
            }
            if purpose != .webhook, case .object(let fields) = parsed {
                addUIVariants(fields, base: base, purpose: purpose, userID: userID, accountID: accountID)
            }
            var seen: Set<[UInt8]> = []
            variants =
                variants.enumerated()
                .sorted { ($0.element.repairs.count, $0.offset) < ($1.element.repairs.count, $1.offset) }
                .map(\.element)
                .filter { seen.insert($0.value).inserted }
            variants = Array(variants.prefix(Self.maximumVariants))
        }

        /// Variants of a UI (or install) payload: Stripe's key order, the ids added, extra keys and `mode` removed
        /// or `mode` added.
        private mutating func addUIVariants(
            _ fields: [PayloadField], base: [Repair], purpose: Purpose?, userID: String?, accountID: String?
        ) {
            var fields = fields
            var added: [Repair] = []
            for (key, known) in [("user_id", userID), ("account_id", accountID)]
            where !fields.contains(where: { $0.key == key }) {
                guard let known else {
                    problems.append(
                        Finding(
                            .payloadMissingIDs, .problem,
                            "The payload has no \(key). fetchStripeSignature always signs user_id and account_id "
                                + "(after any extra values): send JSON.stringify({...payload, user_id, account_id}) "
                                + "with the ids from the extension's userContext and environment."))
                    continue
                }
                fields.append(PayloadField(key, .string(known)))
                added.append(
                    Repair(
                        finding: Finding(
                            .payloadMissingIDs, .problem,
                            "The payload lacks \(key), which Stripe signed: send JSON.stringify({...payload, user_id, "
                                + "account_id}) as the body (or, for a GET, the Stripe-User-Id and Stripe-Account-Id "
                                + "headers)."),
                        change: "\(key) is added"))
            }
            guard let user = fields.first(where: { $0.key == "user_id" }),
                let account = fields.first(where: { $0.key == "account_id" })
            else { return }
            let extras = fields.filter { $0.key != "user_id" && $0.key != "account_id" }
            for (chosen, repairs) in Self.extraChoices(extras, purpose: purpose) {
                let canonical = chosen + [user, account]
                let keptInOrder = fields.filter { field in
                    chosen.contains { $0.key == field.key } || field.key == "user_id" || field.key == "account_id"
                }
                let original = chosen.filter { added in !fields.contains { $0.key == added.key } } + keptInOrder
                let inOrder = original.map(\.key) == canonical.map(\.key)
                let orderRepair = Repair(
                    finding: Finding(
                        .payloadKeyOrder, .problem,
                        "The keys are in the order " + original.map(\.key).joined(separator: ", ")
                            + ", but Stripe signs the extra values first, in the order the extension passed them, then "
                            + "user_id, then account_id: send JSON.stringify({...payload, user_id, account_id})."),
                    change: "the keys are put in Stripe's order (extra values, then user_id, then account_id)")
                let json = { (fields: [PayloadField]) in Array(PayloadValue.object(fields).jsonString.utf8) }
                variants.append(
                    Candidate(value: json(canonical), repairs: base + added + repairs + (inOrder ? [] : [orderRepair])))
                if !inOrder { variants.append(Candidate(value: json(original), repairs: base + added + repairs)) }
            }
        }

        /// The sets of extra values to try: as given, without `mode`, with a `mode` the extension may have signed,
        /// without each other key, and without any.
        private static func extraChoices(_ extras: [PayloadField], purpose: Purpose?) -> [([PayloadField], [Repair])] {
            var choices: [([PayloadField], [Repair])] = [(extras, [])]
            if let mode = extras.first(where: { $0.key == "mode" }) {
                let value =
                    mode.value.stringValue.flatMap { ["live", "test"].contains($0) ? " (\"\($0)\")" : nil } ?? ""
                choices.append(
                    (
                        extras.filter { $0.key != "mode" },
                        [
                            Repair(
                                finding: Finding(
                                    .modeNotSigned, .problem,
                                    "The payload has a mode\(value) that the extension did not sign: the signature "
                                        + "verifies without it. Pass it to fetchStripeSignature({mode: "
                                        + "environment.mode}), or send no mode (no Stripe-Mode header on a GET)."),
                                change: "mode is removed")
                        ]
                    ))
            } else if purpose == .uiRequest {
                for mode in ["test", "live"] {
                    choices.append(
                        (
                            [PayloadField("mode", .string(mode))] + extras,
                            [
                                Repair(
                                    finding: Finding(
                                        .modeMissing, .problem,
                                        "The extension signed a mode (\"\(mode)\") that the payload lacks: send it in "
                                            + "the body, or as the Stripe-Mode header of a GET or DELETE."),
                                    change: "mode \"\(mode)\" is added")
                            ]
                        ))
                }
            }
            let others = extras.filter { $0.key != "mode" }
            for field in others.prefix(16) {
                choices.append((extras.filter { $0.key != field.key }, [extraKeyRepair([field.key])]))
            }
            if extras.count >= 2 { choices.append(([], [extraKeyRepair(extras.map(\.key))])) }
            return choices
        }

        private static func extraKeyRepair(_ keys: [String]) -> Repair {
            let names = keys.map { "\"\($0.prefix(40))\"" }.joined(separator: ", ")
            let state =
                keys == ["state"]
                ? " A signature without state is a UI call's (or an install link opened without a state): never "
                    + "accept it for an install."
                : ""
            return Repair(
                finding: Finding(
                    .payloadExtraKey, .problem,
                    "The payload has \(keys.count == 1 ? "a key" : "keys") the signature does not cover: \(names). "
                        + "Send the same values to fetchStripeSignature as in the body, or leave them out of the "
                        + "body.\(state)"),
                change: "\(names) \(keys.count == 1 ? "is" : "are") removed")
        }

        private static func emptyMessage(_ purpose: Purpose?) -> String {
            switch purpose {
            case .webhook?: "The payload is empty: verify the raw body of the delivery."
            default:
                "The payload is empty. A POST must carry the signed JSON as its body "
                    + "(JSON.stringify({...payload, user_id, account_id})); a GET or DELETE sends Stripe-User-Id and "
                    + "Stripe-Account-Id instead."
            }
        }

        /// How `json` differs from what `JSON.stringify` writes, in plain words.
        static func reserializationDifferences(_ json: [UInt8]) -> [String] {
            var differences: [String] = []
            var hasSpace = false
            var hasUnicodeEscape = false
            var hasSlashEscape = false
            var hasOtherNumber = false
            var index = 0
            while index < json.count {
                let byte = json[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    while index < json.count, json[index] != UInt8(ascii: "\"") {
                        if json[index] == UInt8(ascii: "\\"), index + 1 < json.count {
                            let escaped = json[index + 1]
                            if escaped == UInt8(ascii: "/") { hasSlashEscape = true }
                            if escaped == UInt8(ascii: "u"), index + 5 < json.count,
                                let value = UInt32(
                                    String(decoding: json[(index + 2)...(index + 5)], as: UTF8.self), radix: 16),
                                value >= 0x20
                            {
                                hasUnicodeEscape = true
                            }
                            index += 2
                        } else {
                            index += 1
                        }
                    }
                    index += 1
                } else if SigningSecret.isWhitespace(byte) {
                    hasSpace = true
                    index += 1
                } else if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    let start = index
                    while index < json.count, "0123456789+-.eE".utf8.contains(json[index]) { index += 1 }
                    let token = String(decoding: json[start..<index], as: UTF8.self)
                    if let value = Double(token), PayloadValue.javaScriptNumber(value) != token {
                        hasOtherNumber = true
                    }
                } else {
                    index += 1
                }
            }
            if hasSpace {
                differences.append(
                    "it has spaces or line breaks between tokens (Python's json.dumps without separators=(',', ':'), "
                        + "or pretty-printing)")
            }
            if hasUnicodeEscape {
                differences.append(
                    "it escapes characters as \\uXXXX (Python's default ensure_ascii=True; JSON.stringify writes them "
                        + "as they are)")
            }
            if hasSlashEscape { differences.append("it escapes slashes as \\/ (as PHP's json_encode does)") }
            if hasOtherNumber {
                differences.append("it writes numbers differently (for example 100.0 where JavaScript writes 100)")
            }
            if differences.isEmpty {
                differences.append("its text differs from what JSON.stringify writes for the same value")
            }
            return differences
        }
    }

    /// What a payload looks like it was signed for, when its shape says so.
    static func inferPurpose(_ parsed: PayloadValue?) -> Purpose? {
        guard case .object(let fields)? = parsed else { return nil }
        func has(_ key: String) -> Bool { fields.contains { $0.key == key } }
        if parsed?["object"]?.stringValue == "event", has("type") { return .webhook }
        if has("state"), has("user_id") || has("account_id") { return .installRedirect }
        if has("user_id") || has("account_id") { return .uiRequest }
        return nil
    }
}
