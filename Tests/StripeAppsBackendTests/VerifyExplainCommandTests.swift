import Foundation
import StripeApps
import Testing

/// `verify --explain` as a user runs it: the text output, and bad input answered with a stable code, never a crash.
@Suite struct VerifyExplainCommandTests {
    static let secret = "absec_test_explain_cli_secret"
    static let payload = #"{"user_id":"usr_1","account_id":"acct_1"}"#

    func header(_ payload: String = payload, at timestamp: Int64 = 1_700_000_000) throws -> String {
        SignatureSigner(keyring: try SigningKeyring(secrets: [Self.secret]))
            .signatureHeader(for: Array(payload.utf8), timestamp: timestamp).headerValue
    }

    func verify(_ arguments: [String]) async throws -> ProcessOutput {
        try await runProcessAsync(
            ExternalTool.backend, ["verify", "--secret", Self.secret, "--now", "1700000000"] + arguments)
    }

    @Test func textOutputStartsWithTheCodeAndShowsWhatStripeSigned() async throws {
        let reordered = #"{"account_id":"acct_1","user_id":"usr_1"}"#
        let output = try await verify(["--payload", reordered, "--header", try header(), "--explain"])
        #expect(output.status == 1)
        let lines = output.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "no_matching_signature")
        #expect(
            lines.dropFirst().first?.hasPrefix("The signature is authentic, but not for the input as given") == true)
        #expect(lines.contains { $0.hasPrefix("  - [payload_key_order] ") })
        #expect(lines.last == "Stripe signed: " + Self.payload)
        #expect(output.standardError.hasPrefix("no_matching_signature: "))
        #expect(!output.standardOutput.contains(Self.secret))

        let valid = try await verify(["--payload", Self.payload, "--header", try header(), "--explain"])
        #expect(valid.status == 0)
        #expect(valid.standardOutput.hasPrefix("valid\nThe signature verifies: secret #0 (sha256:"))
        #expect(valid.standardError.isEmpty)
    }

    @Test func valuesTheExtensionSignedBuildThePayload() async throws {
        let signed = #"{"mode":"test","user_id":"usr_1","account_id":"acct_1"}"#
        let built = try await verify([
            "--user", "usr_1", "--account", "acct_1", "--extra", #"{"mode":"test"}"#, "--header", try header(signed),
        ])
        #expect(built.status == 0 && built.standardOutput == "valid\n")
        let missing = try await verify([
            "--user", "usr_1", "--account", "acct_1", "--header", try header(signed), "--explain",
        ])
        #expect(missing.status == 1)
        #expect(missing.standardOutput.contains("[mode_missing]"))
    }

    @Test func aSavedPayloadFileKeepsEveryByte() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString).json")
        try Data((Self.payload + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await verify(["--payload-file", file.path, "--header", try header(), "--explain"])
        #expect(output.status == 1)
        #expect(output.standardOutput.contains("[payload_surrounding_whitespace]"))
    }

    @Test func badInputIsAStableCodeNeverACrash() async throws {
        let missingFile = try await verify(["--request", "/nonexistent/request.http", "--explain"])
        #expect(missingFile.status == 2)
        #expect(missingFile.standardError.hasPrefix("unreadable_file: "))
        #expect(missingFile.standardOutput.isEmpty)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString).http")
        try Data("this is not a request\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let notRequest = try await verify(["--request", file.path])
        #expect(notRequest.status == 2)
        #expect(notRequest.standardError.hasPrefix("invalid_request_file: "))

        let badExtra = try await verify([
            "--user", "u", "--account", "a", "--extra", "[1]", "--header", "t=1", "--explain",
        ])
        #expect(badExtra.status == 1 && badExtra.standardError.hasPrefix("invalid_payload: "))

        let noHeader = try await verify(["--payload", Self.payload, "--header", "", "--explain"])
        #expect(noHeader.status == 1 && noHeader.standardError.hasPrefix("missing_header: "))
        #expect(noHeader.standardOutput.hasPrefix("missing_header\nNo Stripe-Signature header was sent."))

        let emptySecret = try await runProcessAsync(
            ExternalTool.backend, ["verify", "--secret", "", "--payload", "{}", "--header", "t=1,v1=a", "--explain"])
        #expect(emptySecret.status == 1 && emptySecret.standardError.hasPrefix("empty_secret: "))
        #expect(emptySecret.standardOutput.hasPrefix("empty_secret\nSecret #0 is empty"))

        for usage in [["--payload", "x"], ["--payload", "x", "--header", "h", "--format", "xml"], ["--header", "h"]] {
            let refused = try await verify(usage)
            #expect(refused.status == 64, "\(usage): \(refused.standardError)")
        }
    }
}
