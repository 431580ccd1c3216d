/// An object id checked before it goes into a path, so `"cus_1/../../accounts/acct_2"` cannot change the call.
struct PathSegment: CustomStringConvertible {
    let description: String

    init(_ id: String) throws(StripeAPIError) {
        guard !id.isEmpty, id.count <= 255,
            id.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
            })
        else {
            throw StripeAPIError(.invalidCall, message: "An object id contains only letters, digits, _ and -.")
        }
        self.description = id
    }
}
