import Foundation
import PropertyBased
import StripeApps
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which hosts count as the local network (loopback and private), for the Private Network Access answer and the
/// development-mode advice.
@Suite struct LocalNetworkTests {
    @Test(arguments: [
        ("127.0.0.1", true, false), ("127.255.0.9", true, false), ("localhost", true, false),
        ("LocalHost", true, false), ("app.localhost", true, false), ("::1", true, false), ("[::1]", true, false),
        ("0:0:0:0:0:0:0:1", true, false), ("::ffff:127.0.0.1", true, false),
        ("10.0.0.1", false, true), ("10.255.255.255", false, true), ("172.16.0.1", false, true),
        ("172.31.255.254", false, true), ("192.168.1.20", false, true), ("169.254.169.254", false, true),
        ("fd12:3456:789a::1", false, true), ("fc00::", false, true), ("[fe80::1%eth0]", false, true),
        ("fe80::1", false, true), ("febf::1", false, true), ("::ffff:192.168.0.1", false, true),
        ("::ffff:c0a8:1", false, true),
    ])
    func localHostsAreLoopbackOrPrivate(_ host: String, _ loopback: Bool, _ privateNetwork: Bool) {
        #expect(LocalNetwork.isLoopback(host: host) == loopback, "\(host)")
        #expect(LocalNetwork.isPrivate(host: host) == privateNetwork, "\(host)")
        #expect(LocalNetwork.isLocal(host: host), "\(host)")
    }

    @Test(arguments: [
        "0.0.0.0", "::", "[::]", "8.8.8.8", "172.15.255.255", "172.32.0.1", "192.169.0.1", "169.253.0.1",
        "11.0.0.1", "100.64.0.1", "2001:db8::1", "fec0::1", "fe7f::1", "::ffff:8.8.8.8", "::2",
        "backend.example.com", "localhost.example.com", "", "127.0.0", "127.0.0.1.5", "127.0.0.256", "1::2::3",
        "12345::1", "g::1", ":1", "1:2:3:4:5:6:7:8:9", "01.02.03.04.05", "١٢٧.0.0.1",
    ])
    func otherHostsAreNotLocal(_ host: String) {
        #expect(!LocalNetwork.isLocal(host: host), "\(host)")
    }

    #if canImport(Glibc) || canImport(Darwin)
        /// Any IPv6 address, written by the C library (compressed, IPv4-mapped forms included), is classified by
        /// its bytes: `fc00::/7` and `fe80::/10` private, `::1` loopback.
        @Test func ipv6AddressesWrittenByTheCLibraryAreClassifiedByTheirBytes() async {
            let prefixes: [[UInt8]] = [[0xFC], [0xFD], [0xFE, 0x80], [0xFE, 0xBF], [0xFE, 0xC0], [0x20, 0x01], [0]]
            await propertyCheck(
                count: 500, input: Gen<UInt8>.value(in: 0...255).array(of: 16), Gen.int(in: 0...3).array(of: 16),
                Gen.int(in: 0...8)
            ) { random, zeros, choice in
                // Mostly zeros, so that compressed and mapped forms come up often.
                var bytes = zip(random, zeros).map { $1 == 0 ? $0 : 0 }
                if choice < prefixes.count {
                    for (index, value) in prefixes[choice].enumerated() { bytes[index] = value }
                } else {
                    bytes = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + bytes[12...]
                }
                var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                let text = bytes.withUnsafeBytes { raw in
                    inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)).map { _ in
                        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    }
                }
                guard let text else {
                    Issue.record("inet_ntop failed")
                    return
                }
                let mapped = bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
                let v4 = Array(bytes[12...])
                let expectedPrivate =
                    mapped
                    ? v4[0] == 10 || (v4[0] == 172 && (16...31).contains(v4[1])) || (v4[0] == 192 && v4[1] == 168)
                        || (v4[0] == 169 && v4[1] == 254)
                    : (bytes[0] == 0xFC || bytes[0] == 0xFD || (bytes[0] == 0xFE && (0x80...0xBF).contains(bytes[1])))
                let expectedLoopback = mapped ? v4[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
                #expect(LocalNetwork.isPrivate(host: text) == expectedPrivate, "\(text)")
                #expect(LocalNetwork.isLoopback(host: text) == expectedLoopback, "\(text)")
                #expect(LocalNetwork.isLocal(host: "[\(text)]") == (expectedPrivate || expectedLoopback), "\(text)")
            }
        }
    #endif
}
