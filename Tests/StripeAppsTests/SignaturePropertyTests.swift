import Foundation
import PropertyBased
import StripeApps
import Testing

@Suite struct SignaturePropertyTests {
    static let payloads = Gen<UInt8>.value(in: 0...255).array(of: 0...2048)
    static let secrets = Gen<UInt8>.value(in: 0x21...0x7E).array(of: 1...64).map { String(decoding: $0, as: UTF8.self) }
    static let timestamps = Gen.int64(in: 0...4_102_444_800)

    func verifier(_ secrets: [String], at timestamp: Int64) throws -> SignatureVerifier {
        SignatureVerifier(
            keyring: try SigningKeyring(secrets: secrets),
            now: { Date(timeIntervalSince1970: TimeInterval(timestamp)) }
        )
    }

    @Test func signedPayloadVerifies() async {
        await propertyCheck(count: 300, input: Self.payloads, Self.secrets, Self.secrets, Self.timestamps) {
            payload, first, second, t in
            let signer = SignatureSigner(keyring: try! SigningKeyring(secrets: [first, second]))
            let header = signer.signatureHeader(for: payload, timestamp: t).headerValue
            let verified = try? verifier([second], at: t).verify(payload: payload, header: header)
            #expect(verified?.timestamp == t)
            #expect(verified?.secretIndex == 0)
        }
    }

    @Test func anyChangedPayloadByteFails() async {
        await propertyCheck(
            count: 300, input: Self.payloads.filter { !$0.isEmpty }, Self.secrets, Gen.int(in: 0...4095),
            Gen<UInt8>.value(in: 1...255)
        ) {
            payload, secret, position, delta in
            let header = SignatureSigner(keyring: try! SigningKeyring(secrets: [secret]))
                .signatureHeader(for: payload, timestamp: 1_700_000_000).headerValue
            var changed = payload
            changed[position % payload.count] &+= delta
            #expect(throws: SignatureError(.noMatchingSignature)) {
                try verifier([secret], at: 1_700_000_000).verify(payload: changed, header: header)
            }
        }
    }

    @Test func anyChangedTimestampFails() async {
        await propertyCheck(
            count: 300, input: Self.payloads, Self.secrets, Self.timestamps,
            Gen.int64(in: -250...250).filter { $0 != 0 }
        ) {
            payload, secret, t, delta in
            let signed = SignatureSigner(keyring: try! SigningKeyring(secrets: [secret])).signatureHeader(
                for: payload, timestamp: t)
            let moved = SignatureHeader(timestamp: t + delta, signatures: signed.signatures).headerValue
            // The clock sits at the moved time, so only the MAC can reject it.
            #expect(throws: SignatureError(.noMatchingSignature)) {
                try verifier([secret], at: t + delta).verify(payload: payload, header: moved)
            }
        }
    }

    @Test func anyChangedMACCharacterFails() async {
        await propertyCheck(count: 300, input: Self.payloads, Self.secrets, Gen.int(in: 0...63), Gen.int(in: 1...15)) {
            payload, secret, position, delta in
            let header = SignatureSigner(keyring: try! SigningKeyring(secrets: [secret]))
                .signatureHeader(for: payload, timestamp: 1_700_000_000).headerValue
            var characters = Array(header)
            let index = characters.count - 64 + position
            let digits = Array("0123456789abcdef")
            let value = digits.firstIndex(of: characters[index])!
            characters[index] = digits[(value + delta) % 16]
            #expect(throws: SignatureError(.noMatchingSignature)) {
                try verifier([secret], at: 1_700_000_000).verify(payload: payload, header: String(characters))
            }
        }
    }

    @Test func headerTextRoundTrips() async {
        await propertyCheck(
            count: 200, input: Self.timestamps, Gen<UInt8>.value(in: 0...255).array(of: 32).array(of: 1...4)
        ) {
            t, macs in
            let header = SignatureHeader(timestamp: t, signatures: macs)
            let parsed = try? SignatureHeader.parse(header.headerValue)
            #expect(parsed == header)
        }
    }
}
