import Crypto
import Foundation
import PropertyBased
import StripeApps
import Testing

/// ``KeyedMAC`` and ``ConstantTime`` replace generic swift-crypto calls on the hot path; they must agree with them.
@Suite struct KeyedMACTests {
    static let bytes = Gen<UInt8>.value(in: 0...255)

    @Test func agreesWithSwiftCryptoHMACForAnyKeyAndMessage() async {
        // Keys up to 200 bytes cover the block-size boundary (64) where long keys are hashed first.
        await propertyCheck(
            count: 500, input: Self.bytes.array(of: 1...200), Self.bytes.array(of: 0...300), Gen.int(in: 0...300)
        ) {
            key, message, split in
            let cut = min(split, message.count)
            let ours = message[..<cut].withUnsafeBytes { prefix in
                message[cut...].withUnsafeBytes { rest in KeyedMAC(key: key).authenticationCode(prefix, rest) }
            }
            let reference = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
            #expect(Array(ours) == Array(reference))
        }
    }

    @Test func rfc4231TestCase2() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        let mac = Array("what do ya want for nothing?".utf8).withUnsafeBytes {
            KeyedMAC(key: Array("Jefe".utf8)).authenticationCode(UnsafeRawBufferPointer(start: nil, count: 0), $0)
        }
        #expect(
            mac.map { String(format: "%02x", $0) }.joined()
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func constantTimeComparisonAgreesWithSwiftCrypto() async {
        await propertyCheck(
            count: 500, input: Self.bytes.array(of: 0...40), Gen.int(in: 0...31), Gen<UInt8>.value(in: 0...255)
        ) {
            message, position, delta in
            let digest = SHA256.hash(data: message)
            var candidate = Array(digest)
            candidate[position] &+= delta
            let hex = candidate.map { String(format: "%02x", $0) }.joined()
            let ours = candidate.withUnsafeBytes { ConstantTime.isEqual(digest, bytes: $0) }
            let oursHex = Array(hex.utf8).withUnsafeBufferPointer { ConstantTime.isEqual(digest, hex: $0) }
            #expect(ours == (digest == candidate))
            #expect(oursHex == ours)
            #expect(ours == (delta == 0))
            let upper = Array(hex.uppercased().utf8).withUnsafeBufferPointer { ConstantTime.isEqual(digest, hex: $0) }
            #expect(upper == (ours && hex == hex.uppercased()))
        }
    }
}
