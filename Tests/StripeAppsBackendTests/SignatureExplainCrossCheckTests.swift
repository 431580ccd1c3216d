import Foundation
import StripeApps
import Testing

/// `verify --explain` on payloads signed by the official `stripe` Python package (`Tests/CrossCheck/explain_cross_check.py`):
/// each scenario is a mistake developers make, and each must get its explanation, the same exit status and code as
/// `verify`, and, where the explanation names the payload Stripe signed, a payload the package itself accepts.
@Suite(.enabled(if: ExternalTool.python != nil || isCI, "skipped: \(ExternalTool.pythonMissing)"))
struct SignatureExplainCrossCheckTests {
    static let script = packageRoot.appendingPathComponent("Tests/CrossCheck/explain_cross_check.py")

    struct Scenario: Decodable {
        let name: String
        let finding: String
        let code: String?
        let secrets: [String]
        let header: String
        let payload: String
        let signedPayload: String
        let signedHeader: String
        let signingSecret: String
        let pythonAcceptsGiven: Bool
        let request: String?
        let user: String?
        let purpose: String?
        let offset: Int64?
        let findsSignedPayload: Bool?
        let also: [String]?
        let payloadFile: Bool?
    }

    struct Answer: Decodable {
        let stripeVersion: String
        let now: Int64?
        let scenarios: [Scenario]?
        let verified: [Bool]
    }

    struct Explained: Decodable {
        struct Finding: Decodable {
            let code: String
            let severity: String
            let message: String
        }
        let code: String?
        let valid: Bool
        let summary: String
        let findings: [Finding]
        let signedPayload: String?
        let matchingSecret: String?
        let timestampOffset: Int64?
    }

    func askPython(_ request: [String: Any]) async throws -> Answer {
        let python = try #require(ExternalTool.python, "\(ExternalTool.pythonMissing)")
        let output = try await runProcessAsync(
            python, [Self.script.path], input: try JSONSerialization.data(withJSONObject: request),
            environment: ["PYTHONIOENCODING": "utf-8"])
        try #require(output.status == 0, "python failed: \(output.standardError)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Answer.self, from: Data(output.standardOutput.utf8))
    }

    /// The package accepts what it should of the inputs as given: only the valid one and those it is laxer about
    /// than this backend (a second `t`, where it takes the first; any future `t`).
    static let acceptedByPython: Set<String> = [
        "valid", "two header lines joined", "ten minutes ahead", "milliseconds", "over the size limit",
    ]

    /// Every finding code `SignatureDiagnosis` has, read from its source.
    static func findingCodes() throws -> Set<String> {
        let source = try String(
            contentsOf: packageRoot.appendingPathComponent(
                "Sources/StripeApps/Signatures/SignatureDiagnosis+Finding.swift"),
            encoding: .utf8)
        let regex = try NSRegularExpression(pattern: #"Code\("([a-z0-9_]+)"\)"#)
        return Set(
            regex.matches(in: source, range: NSRange(source.startIndex..., in: source)).compactMap {
                Range($0.range(at: 1), in: source).map { String(source[$0]) }
            })
    }

    @Test func everyExplanationMatchesWhatTheOfficialPackageSigned() async throws {
        let answer = try await askPython(["scenarios": true])
        let scenarios = try #require(answer.scenarios)
        let now = try #require(answer.now)
        #expect(scenarios.count >= 40)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var toVerify: [(scenario: String, payload: String, header: String, secret: String)] = []
        var covered: Set<String> = []
        for (index, scenario) in scenarios.enumerated() {
            #expect(
                scenario.pythonAcceptsGiven == Self.acceptedByPython.contains(scenario.name),
                "stripe \(answer.stripeVersion) on \(scenario.name)")
            var arguments = scenario.secrets.flatMap { ["--secret", $0] } + ["--now", "\(now)"]
            if let request = scenario.request {
                let file = directory.appendingPathComponent("\(index).http")
                try Data(request.utf8).write(to: file)
                arguments += ["--request", file.path]
            } else if scenario.payloadFile == true {
                let file = directory.appendingPathComponent("\(index).json")
                try Data(scenario.payload.utf8).write(to: file)
                arguments += ["--payload-file", file.path, "--header", scenario.header]
            } else {
                arguments += ["--payload", scenario.payload, "--header", scenario.header]
            }
            if let user = scenario.user { arguments += ["--user", user] }
            if let purpose = scenario.purpose { arguments += ["--purpose", purpose] }

            let plain = try await runProcessAsync(ExternalTool.backend, ["verify"] + arguments)
            let explaining = try await runProcessAsync(
                ExternalTool.backend, ["verify", "--explain", "--format", "json"] + arguments)
            // The explanation changes nothing of verify's contract: same exit status, same code and message.
            #expect(explaining.status == plain.status, "\(scenario.name)")
            #expect(explaining.standardError == plain.standardError, "\(scenario.name)")
            #expect(plain.status == (scenario.code == nil ? 0 : 1), "\(scenario.name): \(plain.standardError)")
            if let code = scenario.code { #expect(plain.standardError.hasPrefix(code + ": "), "\(scenario.name)") }

            let explained = try JSONDecoder.snakeCase.decode(Explained.self, from: Data(explaining.standardOutput.utf8))
            #expect(explained.code == scenario.code, "\(scenario.name)")
            let lead = explained.findings.first { $0.severity == "problem" } ?? explained.findings.first
            #expect(lead?.code == scenario.finding, "\(scenario.name): \(explained.summary)")
            if let offset = scenario.offset { #expect(explained.timestampOffset == offset, "\(scenario.name)") }
            for code in scenario.also ?? [] {
                #expect(explained.findings.contains { $0.code == code }, "\(scenario.name): \(code)")
            }
            covered.formUnion([scenario.finding] + (scenario.also ?? []))
            // No secret ever appears in the explanation.
            for secret in scenario.secrets + [scenario.signingSecret] {
                #expect(!explaining.standardOutput.contains(secret.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            if scenario.findsSignedPayload == false {
                #expect(explained.signedPayload == nil, "\(scenario.name)")
            } else {
                let signed = try #require(explained.signedPayload, "\(scenario.name): \(explained.summary)")
                #expect(signed == scenario.signedPayload, "\(scenario.name)")
                // The legacy install HMAC has no t=…,v1=… to verify; the package computed it over signedPayload.
                if scenario.signedHeader.hasPrefix("t=") {
                    toVerify.append((scenario.name, signed, scenario.signedHeader, scenario.signingSecret))
                }
            }
        }
        // The payloads the explanations say Stripe signed verify with the official package too.
        let verdicts = try await askPython([
            "verify": toVerify.map { ["payload": $0.payload, "header": $0.header, "secret": $0.secret] }
        ]).verified
        #expect(verdicts.count == toVerify.count)
        for (item, verdict) in zip(toVerify, verdicts) { #expect(verdict, "\(item.scenario)") }
        #expect(toVerify.count >= 18)
        // Every explanation the diagnosis can give was checked against a payload the package signed.
        let uncovered = try Self.findingCodes().subtracting(covered).sorted()
        #expect(uncovered.isEmpty, "no scenario for \(uncovered)")
    }
}

extension JSONDecoder {
    /// A decoder for the CLI's snake_case JSON.
    static var snakeCase: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
