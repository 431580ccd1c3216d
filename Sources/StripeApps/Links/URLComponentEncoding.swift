/// Percent-encoding for the parts of the URLs this package builds.
///
/// Written here because Foundation's `URLComponents` leaves `[`, `]`, `&`, `=` and `+` unencoded in query
/// values on some platforms and encodes differently on others; links must be the same bytes everywhere.
package enum URLComponentEncoding {
    /// `url` without the slashes it ends with (`https://host/` → `https://host`), so that a path can be appended.
    package static func withoutTrailingSlashes(_ url: String) -> String {
        String(url.reversed().drop { $0 == "/" }.reversed())
    }

    /// RFC 3986 unreserved characters: `A-Z a-z 0-9 - . _ ~`; everything else is percent-encoded as UTF-8.
    package static func encode(_ text: String, keeping extra: Set<UInt8> = []) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case _ where extra.contains(byte):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    /// A path of `/`-separated segments, each segment encoded; empty segments are dropped.
    package static func encodePath(_ path: String) -> String {
        path.split(separator: "/").map { encode(String($0)) }.joined(separator: "/")
    }

    /// Decodes `%XX` escapes (and `+` as a space when `plusIsSpace`), as a query parser does; `nil` when an escape is
    /// malformed or the result is not UTF-8.
    package static func decode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace: bytes.append(UInt8(ascii: " "))
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The value of one hexadecimal digit (either case), or nil.
    package static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
