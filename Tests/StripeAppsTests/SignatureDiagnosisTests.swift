import Foundation
import StripeApps
import Testing

/// `SignatureDiagnosis` on the shared vectors (cross-checked with the official `stripe` package when they were made)
/// and on cases signed here; the Python cross-check of every explanation is `SignatureExplainCrossCheckTests`.
@Suite struct SignatureDiagnosisTests {
    static let vectors = SignatureVectors.all
    static let app = "absec_test_0123456789abcdef"
    static let user = "usr_K6yd2CbXLO9A5G"
    static let account = "acct_1JSkf6FRwUQjTSJE"

    /// The finding each rejected vector must produce, and whether the diagnosis must find what verifies.
    static let expected: [String: (code: SignatureDiagnosis.Finding.Code, findsSignedPayload: Bool)] = [
        "TV-N1": (.payloadKeyOrder, true),
        "TV-N2": (.payloadReserialized, true),
        "TV-N3": (.payloadReserialized, true),
        "UPPERCASE-HEX": (.signatureUppercase, true),
        "SPACE-AFTER-COMMA": (.headerWhitespace, true),
        "MISSING-T": (.headerNoTimestamp, false),
        "MISSING-V1": (.headerNoV1, false),
        "ONLY-V0": (.headerNoV1, false),
        "EMPTY-HEADER": (.headerMissing, false),
        "EMPTY-V1-VALUE": (.signatureWrongLength, false),
        "TRUNCATED-V1": (.signatureWrongLength, false),
        "WRONG-SECRET-KIND": (.secretIsWebhookSecret, false),
        "EXPIRED-SECRET": (.noExplanation, false),
        "SECRET-TRAILING-NEWLINE": (.secretWhitespace, true),
        "PAYLOAD-TRAILING-NEWLINE": (.payloadSurroundingWhitespace, true),
        "TIMESTAMP-ALTERED": (.noExplanation, false),
        "DUPLICATE-T-LAST-WINS": (.headerDuplicateTimestamp, true),
        "NON-INTEGER-T": (.timestampNotInteger, true),
        "INSTALL-STATE-TAMPERED": (.noExplanation, false),
        "INSTALL-LIVEMODE-ADDED": (.payloadExtraKey, true),
        "INSTALL-URL-ENCODED": (.headerURLEncoded, true),
        "INSTALL-BLOG-HEX": (.headerLegacyInstallHMAC, true),
        "WEBHOOK-RESERIALIZED": (.payloadReserialized, true),
        "WEBHOOK-WITH-APP-SECRET": (.secretIsAppSecret, false),
    ]

    func diagnose(
        _ secrets: [String], header: String?, payload: String, now: Int64 = 1_700_000_000,
        purpose: SignatureDiagnosis.Purpose? = nil, userID: String? = nil, accountID: String? = nil,
        maximumPayloadBytes: Int = SignatureVerifier.defaultMaximumPayloadBytes
    ) -> SignatureDiagnosis {
        SignatureDiagnosis(
            secrets: secrets, header: header, payload: Array(payload.utf8),
            options: .init(
                purpose: purpose, userID: userID, accountID: accountID,
                now: Date(timeIntervalSince1970: TimeInterval(now)), maximumPayloadBytes: maximumPayloadBytes))
    }

    func sign(_ payload: String, secret: String = app, at timestamp: Int64 = 1_700_000_000) throws -> String {
        SignatureSigner(keyring: try SigningKeyring(secrets: [secret]))
            .signatureHeader(for: Array(payload.utf8), timestamp: timestamp).headerValue
    }

    static let rejected = SignatureVectors.all.vectors.filter { !$0.valid }

    @Test func everyRejectedVectorHasAnExpectation() {
        #expect(Set(Self.rejected.map(\.id)) == Set(Self.expected.keys))
    }

    @Test(arguments: SignatureVectors.all.vectors)
    func codeIsTheVerifiersAndEveryRejectionIsExplained(_ vector: SignatureVectors.Vector) throws {
        let secrets = try vector.secretNames.map { try #require(Self.vectors.secrets[$0]) }
        let now = vector.timestamp ?? 1_700_000_000
        let diagnosis = diagnose(
            secrets, header: vector.header, payload: vector.payload, now: now,
            purpose: ["ui": .uiRequest, "install": .installRedirect, "webhook": .webhook][vector.kind])
        let verifier = SignatureVerifier(
            keyring: try SigningKeyring(secrets: secrets), now: { Date(timeIntervalSince1970: TimeInterval(now)) })
        let verdict = Result { () throws(SignatureError) in
            try verifier.verify(payload: Array(vector.payload.utf8), header: vector.header)
        }
        switch verdict {
        case .success: #expect(diagnosis.code == nil && diagnosis.isValid)
        case .failure(let error): #expect(diagnosis.code == error.code)
        }
        if vector.valid {
            #expect(diagnosis.findings.first?.code == .verifies, "\(diagnosis.explanation)")
            #expect(diagnosis.signedPayload == Array(vector.payload.utf8))
            return
        }
        let expected = try #require(Self.expected[vector.id])
        #expect(diagnosis.findings.contains { $0.code == expected.code }, "\(vector.id): \(diagnosis.explanation)")
        #expect(
            diagnosis.findings.first { $0.severity == .problem }?.code == expected.code,
            "\(vector.id): the leading problem: \(diagnosis.explanation)")
        #expect(
            (diagnosis.signedPayload != nil) == expected.findsSignedPayload, "\(vector.id): \(diagnosis.explanation)")
        for secret in Set(Self.vectors.secrets.values) {
            #expect(!diagnosis.explanation.contains(secret.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let header = vector.header.split(separator: ",").compactMap { $0.split(separator: "=").last }
        for value in header where value.count == 64 { #expect(!diagnosis.explanation.contains(value)) }
    }

    static let payloadRepairs: Set<SignatureDiagnosis.Finding.Code> = [
        .payloadKeyOrder, .payloadReserialized, .payloadSurroundingWhitespace, .payloadExtraKey, .secretWhitespace,
    ]

    /// What the diagnosis says Stripe signed does verify, with the real verifier and the header as sent.
    @Test(arguments: rejected.filter { payloadRepairs.contains(expected[$0.id]?.code ?? .verifies) })
    func theSignedPayloadItNamesVerifies(_ vector: SignatureVectors.Vector) throws {
        let secrets = try vector.secretNames.map { try #require(Self.vectors.secrets[$0]) }
        let now = try #require(vector.timestamp)
        let diagnosis = diagnose(secrets, header: vector.header, payload: vector.payload, now: now)
        let signed = try #require(diagnosis.signedPayload)
        let keyring = try SigningKeyring(secrets: secrets.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let verifier = SignatureVerifier(keyring: keyring, now: { Date(timeIntervalSince1970: TimeInterval(now)) })
        #expect(throws: Never.self) { try verifier.verify(payload: signed, header: vector.header) }
        if vector.id != "SECRET-TRAILING-NEWLINE" { #expect(signed != Array(vector.payload.utf8)) }
    }

    @Test func aValidSignatureSaysWhichSecretAndWhen() throws {
        let payload = #"{"user_id":"usr_1","account_id":"acct_1"}"#
        let diagnosis = diagnose(
            ["absec_other", Self.app], header: try sign(payload, at: 1_699_999_958), payload: payload)
        #expect(diagnosis.isValid)
        #expect(diagnosis.timestampOffset == 42)
        #expect(diagnosis.summary.contains("secret #1") && diagnosis.summary.contains("42 s ago"))
        #expect(diagnosis.matchingSecret?.hasPrefix("#1 (an app signing secret (absec_…), sha256:") == true)
    }

    @Test func anOldOrFutureSignatureSaysHowFarOutsideTheWindow() throws {
        let payload = #"{"user_id":"usr_1","account_id":"acct_1"}"#
        let old = diagnose([Self.app], header: try sign(payload, at: 1_700_000_000 - 3900), payload: payload)
        #expect(old.code == .timestampOutsideTolerance)
        #expect(old.timestampOffset == 3900)
        let tooOld = try #require(old.findings.first)
        #expect(tooOld.code == .timestampTooOld)
        #expect(
            tooOld.message.contains("3900 s (1 h 5 min) before now") && tooOld.message.contains("3600 s (1 h) too old"))
        #expect(old.summary.hasPrefix("The signature is authentic"))

        let future = diagnose([Self.app], header: try sign(payload, at: 1_700_000_000 + 301), payload: payload)
        #expect(future.code == .timestampOutsideTolerance)
        #expect(future.timestampOffset == -301)
        #expect(future.findings.first?.code == .timestampInFuture)
        #expect(future.findings.first?.message.contains("1 s too far ahead") == true)

        let milliseconds = diagnose([Self.app], header: try sign(payload, at: 1_700_000_000_123), payload: payload)
        #expect(milliseconds.findings.contains { $0.code == .timestampInMilliseconds })
        #expect(milliseconds.findings.contains { $0.code == .timestampInFuture })
    }

    @Test func apiKeysAndTheDevelopmentSecretAreNamedByKindOnly() throws {
        let payload = #"{"user_id":"usr_1","account_id":"acct_1"}"#
        let header = try sign(payload)
        for key in ["sk_test_51abcdef", "rk_live_51abcdef", "pk_test_51abcdef"] {
            let diagnosis = diagnose([key], header: header, payload: payload)
            #expect(diagnosis.code == .noMatchingSignature)
            #expect(diagnosis.findings.first?.code == .secretIsAPIKey, "\(diagnosis.explanation)")
            #expect(!diagnosis.explanation.contains(key))
        }
        let development = diagnose(["absec_dev_0123"], header: header, payload: payload)
        #expect(development.findings.contains { $0.code == .secretIsDevelopmentSecret })
        #expect(development.findings.first?.code == .noExplanation)
        #expect(development.summary.contains("development mode"))
    }

    @Test func aModeThatWasNotSignedOrIsMissing() throws {
        let signedDefault = try sign(#"{"user_id":"usr_1","account_id":"acct_1"}"#)
        let withMode = diagnose(
            [Self.app], header: signedDefault, payload: #"{"mode":"test","user_id":"usr_1","account_id":"acct_1"}"#)
        #expect(withMode.findings.first?.code == .modeNotSigned, "\(withMode.explanation)")
        #expect(withMode.signedPayload == Array(#"{"user_id":"usr_1","account_id":"acct_1"}"#.utf8))

        let signedMode = try sign(#"{"mode":"live","user_id":"usr_1","account_id":"acct_1"}"#)
        let withoutMode = diagnose(
            [Self.app], header: signedMode, payload: #"{"user_id":"usr_1","account_id":"acct_1"}"#)
        #expect(withoutMode.findings.first?.code == .modeMissing, "\(withoutMode.explanation)")
        #expect(withoutMode.findings.first?.message.contains("\"live\"") == true)
    }

    @Test func missingIdsAreAddedWhenKnownAndReportedWhenNot() throws {
        let header = try sign(#"{"amount":100,"user_id":"usr_1","account_id":"acct_1"}"#)
        let unknown = diagnose([Self.app], header: header, payload: #"{"amount":100,"account_id":"acct_1"}"#)
        #expect(unknown.findings.first?.code == .payloadMissingIDs)
        #expect(unknown.signedPayload == nil)
        let known = diagnose(
            [Self.app], header: header, payload: #"{"amount":100,"account_id":"acct_1"}"#, userID: "usr_1")
        #expect(known.findings.first?.code == .payloadMissingIDs)
        #expect(known.signedPayload == Array(#"{"amount":100,"user_id":"usr_1","account_id":"acct_1"}"#.utf8))
    }

    @Test func extraKeysAndCombinedMistakes() throws {
        let header = try sign(#"{"user_id":"usr_1","account_id":"acct_1"}"#)
        let extra = diagnose(
            [Self.app], header: header, payload: #"{"note":"x","user_id":"usr_1","account_id":"acct_1"}"#)
        #expect(extra.findings.first?.code == .payloadExtraKey)
        #expect(extra.findings.first?.message.contains("\"note\"") == true)
        #expect(!extra.findings.contains { $0.message.contains("\"x\"") }, "values are never quoted")
        // Python's json.dumps of a dict built in the wrong order: two repairs, both reported.
        let both = diagnose([Self.app], header: header, payload: #"{"account_id": "acct_1", "user_id": "usr_1"}"#)
        #expect(Set(both.findings.prefix(2).map(\.code)) == [.payloadReserialized, .payloadKeyOrder])
        #expect(both.summary.contains(" and "))
    }

    @Test func headerCopiedWithItsNameOrQuotesOrAsAList() throws {
        let payload = #"{"user_id":"usr_1","account_id":"acct_1"}"#
        let header = try sign(payload)
        let named = diagnose([Self.app], header: "Stripe-Signature: " + header, payload: payload)
        #expect(named.code == .malformedHeader)
        #expect(named.findings.first?.code == .headerIncludesName)
        #expect(named.signedPayload != nil)
        let quoted = diagnose([Self.app], header: "\"\(header)\"", payload: payload)
        #expect(quoted.findings.first?.code == .headerQuoted)
        let list = diagnose(["absec_old," + Self.app], header: header, payload: payload)
        #expect(list.findings.first?.code == .secretIsAList, "\(list.explanation)")
        #expect(list.matchingSecret?.hasPrefix("#0[1]") == true)
        let empty = diagnose(["", Self.app], header: header, payload: payload)
        #expect(empty.code == .emptySecret)
        #expect(empty.findings.first?.code == .secretEmpty)
    }

    @Test func anEmptySecretLeadsWhateverElseIsWrong() {
        let noHeader = diagnose(["", Self.app], header: nil, payload: "{}")
        #expect(noHeader.code == .emptySecret)
        #expect(noHeader.summary.hasPrefix("Secret #0 is empty"))
        #expect(Set(noHeader.findings.map(\.code)).isSuperset(of: [.secretEmpty, .headerMissing]))
        let tooLarge = diagnose([""], header: "t=1,v1=a", payload: "xx", maximumPayloadBytes: 1)
        #expect(tooLarge.code == .emptySecret)
        #expect(tooLarge.findings.contains { $0.code == .payloadTooLarge })
    }

    @Test func anOversizedPayloadIsNotHashed() {
        let diagnosis = diagnose(
            [Self.app], header: "t=1700000000,v1=" + String(repeating: "a", count: 64),
            payload: String(repeating: "x", count: 65), maximumPayloadBytes: 64)
        #expect(diagnosis.code == .payloadTooLarge)
        #expect(diagnosis.findings.first?.code == .payloadTooLarge)
    }

    @Test func purposeIsInferredFromThePayload() {
        func purpose(_ payload: String) -> SignatureDiagnosis.Purpose? {
            diagnose([Self.app], header: "t=1", payload: payload).purpose
        }
        #expect(purpose(#"{"id":"evt_1","object":"event","type":"x"}"#) == .webhook)
        #expect(purpose(#"{"state":"s","user_id":"usr_1","account_id":"acct_1"}"#) == .installRedirect)
        #expect(purpose(#"{"user_id":"usr_1","account_id":"acct_1"}"#) == .uiRequest)
        #expect(purpose("not json") == nil)
    }
}
