/// Which hosts browsers count as the local network: loopback and private addresses, the targets of Chrome's Local
/// Network Access permission (Chrome 142 and later) and of the Private Network Access preflights before it.
///
/// A page on the public internet, the Stripe Dashboard included, that calls a loopback or private address crosses
/// into a more private network: Chrome asks the user for permission first, and older versions sent a preflight
/// with `Access-Control-Request-Private-Network: true`. Only literal addresses and `localhost` names are classified
/// here; other names are never resolved, so they count as public.
public enum LocalNetwork: Sendable {
    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`, `*.localhost`), or a private one:
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), link-local (`169.254/16`, `fe80::/10`) or unique local IPv6
    /// (`fc00::/7`), IPv4-mapped IPv6 addresses included.
    ///
    /// - Parameter host: An IPv4 or IPv6 literal (brackets and an IPv6 zone allowed) or a host name. The unspecified
    ///   addresses (`0.0.0.0`, `::`), which listen on every interface, public ones included, are not local.
    public static func isLocal(host: String) -> Bool {
        isLoopback(host: host) || isPrivate(host: host)
    }

    /// Whether `host` is a loopback address or a `localhost` name (see ``isLocal(host:)``).
    public static func isLoopback(host: String) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        switch address(host) {
        case .v4(let bytes)?: return bytes[0] == 127
        case .v6(let bytes)?:
            if let mapped = mappedIPv4(bytes) { return mapped[0] == 127 }
            return bytes == [UInt8](repeating: 0, count: 15) + [1]
        case nil: return false
        }
    }

    /// Whether `host` is a private (RFC 1918, unique local) or link-local address (see ``isLocal(host:)``).
    public static func isPrivate(host: String) -> Bool {
        switch address(host) {
        case .v4(let bytes)?: return isPrivateIPv4(bytes)
        case .v6(let bytes)?:
            if let mapped = mappedIPv4(bytes) { return isPrivateIPv4(mapped) }
            return bytes[0] & 0xFE == 0xFC || (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80)
        case nil: return false
        }
    }

    private static func isPrivateIPv4(_ bytes: [UInt8]) -> Bool {
        bytes[0] == 10 || (bytes[0] == 172 && bytes[1] & 0xF0 == 16) || (bytes[0] == 192 && bytes[1] == 168)
            || (bytes[0] == 169 && bytes[1] == 254)
    }

    /// The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
    private static func mappedIPv4(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return Array(bytes[12...])
    }

    private enum Address {
        case v4([UInt8])
        case v6([UInt8])
    }

    /// The bytes of an IPv4 or IPv6 literal, or `nil` for anything else.
    private static func address(_ host: String) -> Address? {
        if let bytes = ipv4(Substring(host)) { return .v4(bytes) }
        var text = Substring(host)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        return ipv6(text).map(Address.v6)
    }

    /// Four decimal parts from 0 to 255, as `a.b.c.d`.
    private static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    /// Eight groups of 1 to 4 hex digits, at most one `::` standing for one or more zero groups, and possibly an
    /// IPv4 address as the last two groups.
    private static func ipv6(_ text: Substring) -> [UInt8]? {
        let gaps = text.ranges(of: "::")
        guard gaps.count <= 1 else { return nil }
        let halves = gaps.first.map { [text[..<$0.lowerBound], text[$0.upperBound...]] } ?? [text]
        func groups(_ half: Substring) -> [UInt8]? {
            guard !half.isEmpty else { return [] }
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            var bytes: [UInt8] = []
            for (index, part) in parts.enumerated() {
                if index == parts.count - 1, part.contains("."), let v4 = ipv4(part) {
                    bytes += v4
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit), let value = UInt16(part, radix: 16)
                else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}
