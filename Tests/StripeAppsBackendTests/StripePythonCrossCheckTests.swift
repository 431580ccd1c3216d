import Foundation
import StripeApps
import Testing

/// Our signatures against the official `stripe` Python package, both ways.
@Suite(.enabled(if: ExternalTool.python != nil || isCI, "skipped: \(ExternalTool.pythonMissing)"))
struct StripePythonCrossCheckTests {
    static let script = packageRoot.appendingPathComponent("Tests/CrossCheck/stripe_cross_check.py")

    struct Answer: Decodable {
        struct Signed: Decodable {
            let payload: String
            let secrets: [String]
            let header: String
        }
        let stripeVersion: String
        let verified: [Bool]
        let signed: [Signed]
    }

    func askPython(_ request: [String: Any]) async throws -> Answer {
        let python = try #require(ExternalTool.python, "\(ExternalTool.pythonMissing)")
        let output = try await runProcessAsync(
            python,
            [Self.script.path],
            input: try JSONSerialization.data(withJSONObject: request),
            environment: ["PYTHONIOENCODING": "utf-8"]
        )
        try #require(output.status == 0, "python failed: \(output.standardError)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Answer.self, from: Data(output.standardOutput.utf8))
    }

    /// 1,200 payloads: ASCII and non-ASCII text, long strings, nested JSON, every third one under rotation.
    static func swiftPayloads() -> [(payload: String, secrets: [String])] {
        var rng = SplitMix64(seed: 0x5EED)
        let alphabet = Array("abcXYZ019 _-\"\\/{}[]:,\n\té€😀日本語ßñ\u{2028}")
        func text(_ length: Int) -> String {
            String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        }
        func json(_ depth: Int) -> PayloadValue {
            switch rng.next() % (depth < 4 ? 6 : 4) {
            case 0: .number(Double(Int64(bitPattern: rng.next()) % 1_000_000_000_000))
            case 1: .string(text(Int(rng.next() % 20)))
            case 2: .bool(rng.next() % 2 == 0)
            case 3: .number(Double(rng.next() % 1_000_000) / 7)
            case 4: .array((0..<rng.next() % 4).map { _ in json(depth + 1) })
            default: .object((0..<rng.next() % 4).map { n in PayloadField("k\(n)" + text(3), json(depth + 1)) })
            }
        }
        return (0..<1200).map { n in
            let payload: String
            switch n % 4 {
            case 0: payload = json(0).jsonString
            case 1: payload = text(Int(rng.next() % 200) + 1)
            case 2: payload = text(10_000 + Int(rng.next() % 5000))
            default:
                payload =
                    (try? UIRequestPayload(
                        userID: "usr_\(rng.next())",
                        accountID: "acct_\(rng.next())",
                        extra: [PayloadField("note", .string(text(12))), PayloadField("amount", .number(Double(n)))]
                    ).jsonString) ?? "{}"
            }
            let secrets = ["absec_\(rng.next())_" + text(8)] + (n % 3 == 0 ? ["absec_rotated_\(rng.next())"] : [])
            return (payload, secrets)
        }
    }

    @Test func officialPackageVerifiesOurHeaders() async throws {
        let cases = Self.swiftPayloads()
        let items = try cases.map { item -> [String: Any] in
            let header = SignatureSigner(keyring: try SigningKeyring(secrets: item.secrets)).signatureHeader(
                for: Array(item.payload.utf8)
            )
            return ["payload": item.payload, "header": header.headerValue, "secrets": item.secrets]
        }
        // Negative control: a changed payload must be rejected by Python too, or the check proves nothing.
        var tampered = items[0]
        tampered["payload"] = (items[0]["payload"] as? String ?? "") + " "
        let answer = try await askPython(["verify": items + [tampered]])
        #expect(answer.verified.count == cases.count + 1)
        #expect(
            answer.verified.dropLast().allSatisfy { $0 }, "stripe \(answer.stripeVersion) rejected one of our headers")
        #expect(answer.verified.last == false)
    }

    @Test func weVerifyHeadersBuiltByTheOfficialPackage() async throws {
        let now = Int64(Date().timeIntervalSince1970)
        let cases = Self.swiftPayloads()
        let request: [String: Any] = [
            "sign": cases.map { ["payload": $0.payload, "secrets": $0.secrets, "timestamp": now] },
            "random_sign": ["count": 400, "seed": 7],
        ]
        let answer = try await askPython(request)
        #expect(answer.signed.count == cases.count + 400)
        var rotationHeaders = 0
        for signed in answer.signed {
            let header = try SignatureHeader.parse(signed.header)
            if header.v1ElementCount > 1 { rotationHeaders += 1 }
            // Each active secret on its own verifies the rotation header, and so does the whole keyring.
            for secret in signed.secrets {
                let verifier = SignatureVerifier(keyring: try SigningKeyring(secrets: [secret]))
                #expect(throws: Never.self) {
                    try verifier.verify(payload: Array(signed.payload.utf8), header: signed.header)
                }
            }
            let payload = Array(signed.payload.utf8)
            let keyring = try SigningKeyring(secrets: signed.secrets)
            #expect(throws: Never.self) {
                try SignatureVerifier(keyring: keyring).verify(payload: payload, header: signed.header)
            }
            // One changed byte fails.
            #expect(throws: SignatureError(.noMatchingSignature)) {
                try SignatureVerifier(keyring: keyring).verify(payload: payload + [0x20], header: signed.header)
            }
        }
        #expect(rotationHeaders > 300)
    }

    @Test func cliSignedHeaderVerifiesWithTheOfficialPackageAndCLIRejectsChanges() async throws {
        let payload = #"{"user_id":"usr_1","account_id":"acct_1"}"#
        let signed = try await runProcessAsync(
            ExternalTool.backend,
            ["sign", "--secret", "absec_x", "--user", "usr_1", "--account", "acct_1", "--timestamp", "1700000000"]
        )
        try #require(signed.status == 0, "\(signed.standardError)")
        let header = signed.standardOutput.trimmingCharacters(in: .newlines)
        #expect(header.hasPrefix("t=1700000000,v1="))
        #expect(signed.standardError.isEmpty)

        // Python checks the signature (its tolerance is one-sided, so an old t needs tolerance=None).
        let python = try #require(ExternalTool.python, "\(ExternalTool.pythonMissing)")
        let check = try await runProcessAsync(
            python,
            [
                "-c",
                "import stripe,sys; stripe.WebhookSignature.verify_header(sys.argv[1], sys.argv[2], 'absec_x', tolerance=None); print('ok')",
                payload, header,
            ]
        )
        #expect(check.standardOutput == "ok\n", "\(check.standardError)")

        func verify(_ payload: String, now: Int) async throws -> ProcessOutput {
            try await runProcessAsync(
                ExternalTool.backend,
                ["verify", "--secret", "absec_x", "--payload", payload, "--header", header, "--now", "\(now)"]
            )
        }
        let valid = try await verify(payload, now: 1_700_000_000)
        #expect(valid.status == 0 && valid.standardOutput == "valid\n")
        let oneByte = try await verify(payload.replacingOccurrences(of: "acct_1", with: "acct_2"), now: 1_700_000_000)
        #expect(oneByte.status == 1 && oneByte.standardOutput.isEmpty)
        #expect(oneByte.standardError.hasPrefix("no_matching_signature"))
        for now in [1_700_000_301, 1_699_999_699] {
            let outside = try await verify(payload, now: now)
            #expect(outside.status == 1 && outside.standardError.hasPrefix("timestamp_outside_tolerance"))
        }
    }
}

/// A small seeded generator, so a failing payload can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
