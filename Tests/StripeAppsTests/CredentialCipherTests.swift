import Crypto
import Foundation
import StripeApps
import Testing

@Suite("Credential cipher (AES-256-GCM at rest)")
struct CredentialCipherTests {
    let tenant = Tenant(accountID: "acct_1", mode: .test)
    let keyA = Data(repeating: 0xA1, count: 32).base64EncodedString()
    let keyB = Data(repeating: 0xB2, count: 32).base64EncodedString()

    @Test("seal then open round-trips; every seal differs (random nonce); plaintext never shows")
    func roundTrip() throws {
        let cipher = try CredentialCipher(base64Keys: keyA)
        let plaintext = Array("rk_test_merchant_key_0123456789".utf8)
        let first = try cipher.seal(plaintext, for: tenant, name: "mailer", version: 1)
        let second = try cipher.seal(plaintext, for: tenant, name: "mailer", version: 1)
        #expect(first != second)
        #expect(first[0] == 2)
        #expect(try cipher.open(first, for: tenant, name: "mailer", version: 1) == plaintext)
        #expect(!String(decoding: first, as: UTF8.self).contains("merchant_key"))
    }

    @Test("bytes moved to another tenant, mode or name, or altered, do not open")
    func boundToTenantAndName() throws {
        let cipher = try CredentialCipher(base64Keys: keyA)
        let sealed = try cipher.seal(Array("secret".utf8), for: tenant, name: "mailer", version: 1)
        for (other, name) in [
            (Tenant(accountID: "acct_2", mode: .test), "mailer"),
            (Tenant(accountID: "acct_1", mode: .live), "mailer"),
            (tenant, "other"),
        ] {
            let error = #expect(throws: CredentialError.self) {
                try cipher.open(sealed, for: other, name: name, version: 1)
            }
            #expect(error?.code == .tampered)
        }
        for index in [0, 5, 12, sealed.count - 1] {
            var altered = sealed
            altered[index] ^= 0x01
            #expect(throws: CredentialError.self) { try cipher.open(altered, for: tenant, name: "mailer", version: 1) }
        }
        #expect(throws: CredentialError.self) {
            try cipher.open(Array(sealed.prefix(20)), for: tenant, name: "mailer", version: 1)
        }
    }

    @Test("the version is bound: bytes of one version do not open as another (no rollback), nor as the old format")
    func boundToVersion() throws {
        let cipher = try CredentialCipher(base64Keys: keyA)
        let sealed = try cipher.seal(Array("v3".utf8), for: tenant, name: "oauth", version: 3)
        #expect(try cipher.open(sealed, for: tenant, name: "oauth", version: 3) == Array("v3".utf8))
        for version in [1, 2, 4, 13, 30] {
            let error = #expect(throws: CredentialError.self) {
                try cipher.open(sealed, for: tenant, name: "oauth", version: version)
            }
            #expect(error?.code == .tampered)
        }
        // Claiming the version-less format for version-bound bytes (a downgrade) does not open either.
        var downgraded = sealed
        downgraded[0] = 1
        let downgrade = #expect(throws: CredentialError.self) {
            try cipher.open(downgraded, for: tenant, name: "oauth", version: 3)
        }
        #expect(downgrade?.code == .tampered)
        var unknownFormat = sealed
        unknownFormat[0] = 3
        #expect(throws: CredentialError.self) { try cipher.open(unknownFormat, for: tenant, name: "oauth", version: 3) }
    }

    @Test("values of the earlier format (0x01, no version) still open at any version, and need resealing")
    func legacyFormat() throws {
        let cipher = try CredentialCipher(base64Keys: keyA)
        let legacy = try cipher.sealLegacy(Array("old".utf8), for: tenant, name: "mailer")
        #expect(legacy[0] == 1)
        for version in [1, 7] {
            #expect(try cipher.open(legacy, for: tenant, name: "mailer", version: version) == Array("old".utf8))
        }
        let error = #expect(throws: CredentialError.self) {
            try cipher.open(legacy, for: Tenant(accountID: "acct_2", mode: .test), name: "mailer", version: 1)
        }
        #expect(error?.code == .tampered)
        #expect(cipher.needsResealing(legacy))
        #expect(!cipher.needsResealing(try cipher.seal(Array("new".utf8), for: tenant, name: "mailer", version: 2)))
    }

    /// Sealed by Python's `cryptography` (AESGCM) from the documented format alone: key 32 × 0xA1, nonce
    /// 00 01 … 0b, plaintext `mailer-key-0123456789`, for acct_1 in test mode, name `mailer.api_key`, version 7.
    @Test("opens values another implementation sealed from the documented format (format 2 and 1)")
    func independentVectors() throws {
        let cipher = try CredentialCipher(base64Keys: keyA)
        let prefix = "52fe6094743bfd4f000102030405060708090a0bc14a609b822d0e806fd68f71384b37d81c2f015941"
        let versionBound = try #require(hex("02" + prefix + "fa76f1ec4a3afc975313da576055eda2"))
        let legacy = try #require(hex("01" + prefix + "e0f2ef89d8dd33b9f09a16d29ca03d31"))
        let plaintext = Array("mailer-key-0123456789".utf8)
        #expect(try cipher.open(versionBound, for: tenant, name: "mailer.api_key", version: 7) == plaintext)
        #expect(throws: CredentialError.self) {
            try cipher.open(versionBound, for: tenant, name: "mailer.api_key", version: 6)
        }
        #expect(try cipher.open(legacy, for: tenant, name: "mailer.api_key", version: 1) == plaintext)
        #expect(!cipher.needsResealing(versionBound))
        #expect(cipher.needsResealing(legacy))
    }

    @Test("rotation: the first key seals, older keys still open, a dropped key is reported")
    func rotation() throws {
        let old = try CredentialCipher(base64Keys: keyA)
        let sealedWithOld = try old.seal(Array("v".utf8), for: tenant, name: "n", version: 1)
        let rotated = try CredentialCipher(base64Keys: " \(keyB) , \(keyA) ")
        #expect(try rotated.open(sealedWithOld, for: tenant, name: "n", version: 1) == Array("v".utf8))
        #expect(rotated.needsResealing(sealedWithOld))
        #expect(!rotated.needsResealing(try rotated.seal(Array("v".utf8), for: tenant, name: "n", version: 2)))
        let dropped = try CredentialCipher(base64Keys: keyB)
        let error = #expect(throws: CredentialError.self) {
            try dropped.open(sealedWithOld, for: tenant, name: "n", version: 1)
        }
        #expect(error?.code == .unknownKey)
        // After the rotation no value of the earlier format opens: they were all sealed with a retired key.
        let legacy = try old.sealLegacy(Array("v".utf8), for: tenant, name: "n")
        #expect(throws: CredentialError.self) { try dropped.open(legacy, for: tenant, name: "n", version: 1) }
    }

    @Test("keys must be base64 of 32 bytes; messages never echo them")
    func invalidKeys() {
        for bad in ["", "not base64!", Data(repeating: 1, count: 16).base64EncodedString()] {
            let error = #expect(throws: CredentialError.self) { try CredentialCipher(base64Keys: bad) }
            #expect(error.map { !bad.isEmpty && $0.description.contains(bad) } != true)
        }
    }

    private func hex(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
