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
        let first = try cipher.seal(plaintext, for: tenant, name: "mailer")
        let second = try cipher.seal(plaintext, for: tenant, name: "mailer")
        #expect(first != second)
        #expect(try cipher.open(first, for: tenant, name: "mailer") == plaintext)
        #expect(!String(decoding: first, as: UTF8.self).contains("merchant_key"))
    }

    @Test("bytes moved to another tenant, mode or name, or altered, do not open")
    func boundToTenantAndName() throws {
        let cipher = try CredentialCipher(base64Keys: keyA)
        let sealed = try cipher.seal(Array("secret".utf8), for: tenant, name: "mailer")
        for (other, name) in [
            (Tenant(accountID: "acct_2", mode: .test), "mailer"),
            (Tenant(accountID: "acct_1", mode: .live), "mailer"),
            (tenant, "other"),
        ] {
            let error = #expect(throws: CredentialError.self) { try cipher.open(sealed, for: other, name: name) }
            #expect(error?.code == .tampered)
        }
        for index in [0, 5, 12, sealed.count - 1] {
            var altered = sealed
            altered[index] ^= 0x01
            #expect(throws: CredentialError.self) { try cipher.open(altered, for: tenant, name: "mailer") }
        }
        #expect(throws: CredentialError.self) { try cipher.open(Array(sealed.prefix(20)), for: tenant, name: "mailer") }
    }

    @Test("rotation: the first key seals, older keys still open, a dropped key is reported")
    func rotation() throws {
        let old = try CredentialCipher(base64Keys: keyA)
        let sealedWithOld = try old.seal(Array("v".utf8), for: tenant, name: "n")
        let rotated = try CredentialCipher(base64Keys: " \(keyB) , \(keyA) ")
        #expect(try rotated.open(sealedWithOld, for: tenant, name: "n") == Array("v".utf8))
        #expect(rotated.needsResealing(sealedWithOld))
        #expect(!rotated.needsResealing(try rotated.seal(Array("v".utf8), for: tenant, name: "n")))
        let dropped = try CredentialCipher(base64Keys: keyB)
        let error = #expect(throws: CredentialError.self) { try dropped.open(sealedWithOld, for: tenant, name: "n") }
        #expect(error?.code == .unknownKey)
    }

    @Test("keys must be base64 of 32 bytes; messages never echo them")
    func invalidKeys() {
        for bad in ["", "not base64!", Data(repeating: 1, count: 16).base64EncodedString()] {
            let error = #expect(throws: CredentialError.self) { try CredentialCipher(base64Keys: bad) }
            #expect(error.map { !bad.isEmpty && $0.description.contains(bad) } != true)
        }
    }
}
