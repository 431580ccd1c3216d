import Foundation
import StripeApps
import Testing

@Suite("Signature test vectors (shared/test-vectors/signatures.json)")
struct SignatureVectorTests {
    static let vectors = SignatureVectors.all

    func verifier(secretNames: [String], tolerance: Int64 = 300, now: Int64) throws -> SignatureVerifier {
        let secrets = try secretNames.map { try #require(Self.vectors.secrets[$0]) }
        return SignatureVerifier(
            keyring: try SigningKeyring(secrets: secrets),
            tolerance: try SignatureTolerance(seconds: tolerance),
            now: { Date(timeIntervalSince1970: TimeInterval(now)) }
        )
    }

    @Test func fixtureIsTheSharedFile() throws {
        let shared = SignatureVectors.sharedURL
        if !FileManager.default.fileExists(atPath: shared.path) {
            try #require(!isCI, "CI must have shared/ beside the checkout")
            return
        }
        #expect(try Data(contentsOf: shared) == Data(contentsOf: SignatureVectors.fixtureURL))
    }

    @Test func fileHasEveryKindOfVector() {
        #expect(Self.vectors.vectors.count >= 40)
        #expect(Set(Self.vectors.vectors.map(\.kind)) == ["ui", "install", "webhook"])
        #expect(Self.vectors.vectors.contains { $0.valid } && Self.vectors.vectors.contains { !$0.valid })
    }

    @Test(arguments: SignatureVectors.all.vectors)
    func vectorGivesExpectedVerdict(_ vector: SignatureVectors.Vector) throws {
        // The clock is ignored for these vectors: verify at the signature time (or any time when t is unreadable).
        let verifier = try verifier(secretNames: vector.secretNames, now: vector.timestamp ?? 1_700_000_000)
        let result = Result { () throws(SignatureError) in
            try verifier.verify(payload: Array(vector.payload.utf8), header: vector.header)
        }
        switch result {
        case .success(let verified):
            #expect(vector.valid, "accepted: \(vector.why)")
            #expect(verified.timestamp == vector.timestamp)
            let matched = try #require(Self.vectors.secrets[vector.secretNames[verified.secretIndex]])
            #expect(try SigningSecret(matched).fingerprint == verified.secretFingerprint)
        case .failure(let error):
            #expect(!vector.valid, "rejected with \(error.code): \(vector.why)")
            #expect(error.code != .timestampOutsideTolerance)
        }
    }

    @Test(arguments: SignatureVectors.all.vectors.filter(\.valid))
    func signerReproducesEveryValidHeaderMAC(_ vector: SignatureVectors.Vector) throws {
        let header = try SignatureHeader.parse(vector.header)
        let secrets = try vector.secretNames.map { try #require(Self.vectors.secrets[$0]) }
        let signer = SignatureSigner(keyring: try SigningKeyring(secrets: secrets))
        let produced = signer.signatureHeader(for: Array(vector.payload.utf8), timestamp: header.timestamp)
        // At least one of our MACs appears in the vector's header.
        #expect(produced.signatures.contains { header.signatures.contains($0) })
    }

    @Test(arguments: SignatureVectors.all.toleranceCases)
    func toleranceCaseGivesExpectedVerdict(_ toleranceCase: SignatureVectors.ToleranceCase) throws {
        let tv1 = try #require(Self.vectors.vectors.first { $0.id == "TV1" })
        let verifier = try verifier(secretNames: ["APP"], tolerance: toleranceCase.tolerance, now: toleranceCase.now)
        let payload = Array(tv1.payload.utf8)
        if toleranceCase.valid {
            #expect(try verifier.verify(payload: payload, header: tv1.header).timestamp == toleranceCase.timestamp)
        } else {
            let error = #expect(throws: SignatureError.self) {
                try verifier.verify(payload: payload, header: tv1.header)
            }
            #expect(error?.code == .timestampOutsideTolerance)
        }
    }

    @Test(arguments: SignatureVectors.all.installBlogCompatCases)
    func legacyInstallSchemeOnlyWhenEnabled(_ blogCase: SignatureVectors.BlogCase) throws {
        let secret = try #require(Self.vectors.secrets[blogCase.secretName])
        let base = SignatureVerifier(
            keyring: try SigningKeyring(secrets: [secret]),
            now: { Date(timeIntervalSince1970: 1_700_000_000) }
        )
        let payload = try InstallRedirectPayload(
            state: "csrf_8f14e45fceea167a",
            userID: "usr_K6yd2CbXLO9A5G",
            accountID: blogCase.accountId
        )
        let compat = InstallSignatureVerifier(verifier: base, schemes: .officialAndLegacyAccountHMAC)
        let result = Result { () throws(SignatureError) in
            try compat.verify(installSignature: blogCase.installSignature, payload: payload)
        }
        if blogCase.valid {
            #expect(try result.get().isLegacyScheme)
            // Off by default: the official verifier sees no t and no v1.
            #expect(throws: SignatureError.self) {
                try InstallSignatureVerifier(verifier: base).verify(
                    installSignature: blogCase.installSignature,
                    payload: payload
                )
            }
        } else {
            // Never accepted as a legacy MAC (an official value is left to the official verifier).
            if case .success(let verified) = result { #expect(!verified.isLegacyScheme) }
        }
    }
}
