import Foundation
import StripeApps
import Testing

@Suite struct SignatureHeaderTests {
    static let mac = "8543d185fd46c7ad48d4c3ea68d6fadc3db58f90ab4dc5b5c37a1b6b6be4c605"

    @Test func parsesTimestampAndEveryV1() throws {
        let header = try SignatureHeader.parse(
            "t=1700000000,v1=\(Self.mac),v0=abc,v1=\(String(repeating: "0", count: 64))")
        #expect(header.timestamp == 1_700_000_000)
        #expect(header.v1ElementCount == 2)
        #expect(header.signatures.count == 2)
    }

    @Test func producesTheWireFormat() throws {
        let header = try SignatureHeader.parse("v1=\(Self.mac),t=01700000000")
        #expect(header.headerValue == "t=1700000000,v1=\(Self.mac)")
    }

    @Test(arguments: [
        ("", SignatureError.Code.missingHeader),
        ("t=1700000000", .noSignatureWithExpectedScheme),
        ("t=1700000000,v0=\(mac)", .noSignatureWithExpectedScheme),
        ("v1=\(mac)", .malformedHeader),
        ("t,v1=\(mac)", .malformedHeader),
        ("t=,v1=\(mac)", .malformedHeader),
        ("t=-1,v1=\(mac)", .malformedHeader),
        ("t=+1,v1=\(mac)", .malformedHeader),
        ("t=1e9,v1=\(mac)", .malformedHeader),
        ("t=99999999999999999999,v1=\(mac)", .malformedHeader),
        ("t=1,t=1,v1=\(mac)", .malformedHeader),
        ("T=1,v1=\(mac)", .malformedHeader),
    ])
    func rejectsMalformedHeaders(_ value: String, _ code: SignatureError.Code) {
        let error = #expect(throws: SignatureError.self) { try SignatureHeader.parse(value) }
        #expect(error?.code == code)
    }

    @Test func keepsOnlyWellFormedV1Values() throws {
        let header = try SignatureHeader.parse(
            "t=1,v1=\(Self.mac.uppercased()),v1=\(Self.mac)x,v1=\(Self.mac.dropLast()),v1=\(Self.mac)=x,v1= \(Self.mac)"
        )
        #expect(header.v1ElementCount == 5)
        #expect(header.signatures.isEmpty)
    }

    @Test func descriptionNeverShowsTheSignature() throws {
        let header = try SignatureHeader.parse("t=1700000000,v1=\(Self.mac)")
        #expect(!header.description.contains(Self.mac))
        #expect(!"\(header)".contains(Self.mac.prefix(16)))
    }

    @Test func secretsAreRedactedAndKeyringRejectsEmptySecrets() throws {
        let secret = try SigningSecret("absec_super_secret_value")
        for text in [secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret)] {
            #expect(!text.contains("super_secret"))
        }
        #expect(try SigningKeyring(secrets: ["absec_super_secret_value"]).description.contains("redacted"))
        #expect(throws: SignatureError(.emptySecret)) { try SigningKeyring(secrets: []) }
        #expect(throws: SignatureError(.emptySecret)) { try SigningKeyring(secrets: ["absec_a", ""]) }
        #expect(throws: SignatureError(.emptySecret)) { try SigningKeyring(commaSeparated: " , \n") }
    }

    @Test func commaSeparatedConfigurationIsTrimmedAndLabelled() throws {
        let keyring = try SigningKeyring(commaSeparated: "absec_new, absec_old\n")
        #expect(keyring.secrets.map(\.label) == ["#0", "#1"])
        #expect(keyring.secrets.allSatisfy { !$0.hasSurroundingWhitespace && $0.looksLikeAppSecret })
        #expect(try SigningSecret("whsec_x\n").hasSurroundingWhitespace)
        #expect(try SigningSecret("whsec_x").looksLikeWebhookSecret)
    }

    @Test func toleranceCannotBeSwitchedOff() {
        for seconds: Int64 in [0, -1, .min] {
            #expect(throws: SignatureError(.invalidTolerance)) { try SignatureTolerance(seconds: seconds) }
        }
        #expect(SignatureTolerance.default.seconds == 300)
        #expect(!SignatureTolerance.default.contains(.min, now: .max))
    }

    @Test func oversizedPayloadIsRejectedBeforeHashing() throws {
        let verifier = SignatureVerifier(keyring: try SigningKeyring(secrets: ["absec_x"]), maximumPayloadBytes: 8)
        // The header is garbage: a size error proves the payload was refused before the header was even read.
        let error = #expect(throws: SignatureError.self) {
            try verifier.verify(payload: Array("123456789".utf8), header: "x")
        }
        #expect(error?.code == .payloadTooLarge)
        #expect(throws: SignatureError(.missingHeader)) { try verifier.verify(payload: [UInt8](), header: nil) }
    }

    @Test func errorMessagesNeverContainSecretsOrSignatures() throws {
        let secret = "absec_do_not_leak_me"
        let signer = SignatureSigner(keyring: try SigningKeyring(secrets: [secret]))
        let header = signer.signatureHeader(for: Array("{}".utf8), timestamp: 1).headerValue
        let verifier = SignatureVerifier(keyring: try SigningKeyring(secrets: [secret]), maximumPayloadBytes: 4)
        let attempts: [() throws -> VerifiedSignature] = [
            { try verifier.verify(payload: Array("{}".utf8), header: header) },
            { try verifier.verify(payload: Array("{ }".utf8), header: header) },
            { try verifier.verify(payload: Array("{}".utf8), header: header + ",t=2") },
            { try verifier.verify(payload: Array("{}{}{}".utf8), header: header) },
        ]
        for attempt in attempts {
            let error = #expect(throws: SignatureError.self) { try attempt() }
            let text = "\(try #require(error)) \(String(reflecting: error))"
            #expect(!text.contains("do_not_leak"))
            #expect(!text.contains(String(header.suffix(64).prefix(16))))
        }
    }
}
