/// An HTTP/1.1 request saved as text (from a proxy, `nc -l`, or a log), read the way this backend reads a signed
/// request, so that its signature can be checked offline (`stripe-apps-backend verify --request FILE`).
///
/// The file is the request line, the header lines, a blank line and the body, with CRLF or LF line ends. A
/// `Content-Length` body is cut to its length and a chunked one is decoded.
public struct CapturedRequest: Sendable {
    /// Why a saved request cannot be read.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// What is wrong, in plain words; it quotes nothing from the file.
        public let message: String

        public var description: String { message }
    }

    /// One header line.
    public struct Field: Hashable, Sendable {
        /// The name as written.
        public let name: String
        /// The value, without surrounding spaces.
        public let value: String
    }

    /// What signed the request and over which payload: the input of ``SignatureDiagnosis``.
    public struct Signed: Sendable {
        /// The `Stripe-Signature` value (several lines joined with a comma, as HTTP does), or the URL-decoded
        /// `install_signature` of an install callback; `nil` when absent.
        public let header: String?
        /// The signed payload: the raw body, or the payload rebuilt from a GET's identity headers or an install
        /// callback's query.
        public let payload: [UInt8]
        /// A webhook (`/webhooks/…`), an install redirect (`/install/callback`) or a UI call (anything else).
        public let purpose: SignatureDiagnosis.Purpose
        /// `Stripe-User-Id`, or the callback's `user_id`.
        public let userID: String?
        /// `Stripe-Account-Id`, or the callback's `account_id`.
        public let accountID: String?
    }

    /// The method, e.g. `POST`.
    public let method: String
    /// The request target: the path and query.
    public let target: String
    /// The header lines in order.
    public let fields: [Field]
    /// The body bytes.
    public let body: [UInt8]

    /// Reads a saved request.
    ///
    /// - Throws: ``ParseError`` when the bytes are not an HTTP/1.x request.
    public init(parsing bytes: [UInt8]) throws(ParseError) {
        var lines: [String] = []
        var index = 0
        var headEnded = false
        while index < bytes.count {
            guard let newline = bytes[index...].firstIndex(of: 0x0A) else { break }
            var line = bytes[index..<newline]
            if line.last == 0x0D { line = line.dropLast() }
            index = newline + 1
            if line.isEmpty {
                headEnded = true
                break
            }
            lines.append(String(decoding: line, as: UTF8.self))
        }
        if !headEnded, index < bytes.count { lines.append(String(decoding: bytes[index...], as: UTF8.self)) }
        guard let requestLine = lines.first else { throw ParseError(message: "The file is empty.") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[0].allSatisfy({ $0.isUppercase }) else {
            throw ParseError(
                message: "The first line is not an HTTP/1.1 request line (METHOD /path HTTP/1.1). Save the request "
                    + "as it went over the wire: request line, headers, a blank line, then the body.")
        }
        method = String(parts[0])
        target = String(parts[1])
        var fields: [Field] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                throw ParseError(message: "A header line has no colon (name: value).")
            }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            fields.append(
                Field(
                    name: String(line[..<colon]),
                    value: String(value.reversed().drop { $0 == " " || $0 == "\t" }.reversed())))
        }
        self.fields = fields
        var body = headEnded ? Array(bytes[index...]) : []
        if fields.contains(where: {
            $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked")
        }) {
            body = try Self.decodeChunked(body)
        } else if let length = fields.first(where: { $0.name.lowercased() == "content-length" }) {
            guard let count = Int(length.value), count >= 0 else {
                throw ParseError(message: "Content-Length is not a number.")
            }
            guard count <= body.count else {
                throw ParseError(
                    message: "The body has \(body.count) bytes but Content-Length says \(count): the file was cut off.")
            }
            body = Array(body.prefix(count))
        }
        self.body = body
    }

    /// The values of every header line named `name`, case-insensitively, in order.
    public func values(of name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// What was signed, read as the backend's routes read it.
    public var signed: Signed {
        let path = String(target.prefix { $0 != "?" })
        let header = values(of: "Stripe-Signature")
        let joinedHeader = header.isEmpty ? nil : header.joined(separator: ",")
        if path.hasPrefix("/webhooks/") {
            return Signed(header: joinedHeader, payload: body, purpose: .webhook, userID: nil, accountID: nil)
        }
        if path == "/install/callback" {
            let query = queryItems
            var fields: [PayloadField] = []
            if let state = query["state"] { fields.append(PayloadField("state", .string(state))) }
            fields.append(PayloadField("user_id", .string(query["user_id"] ?? "")))
            fields.append(PayloadField("account_id", .string(query["account_id"] ?? "")))
            return Signed(
                header: query["install_signature"], payload: Array(PayloadValue.object(fields).jsonString.utf8),
                purpose: .installRedirect, userID: query["user_id"], accountID: query["account_id"])
        }
        let userID = values(of: "Stripe-User-Id").first
        let accountID = values(of: "Stripe-Account-Id").first
        if ["GET", "HEAD", "DELETE"].contains(method) {
            var fields = values(of: "Stripe-Mode").first.map { [PayloadField("mode", .string($0))] } ?? []
            fields.append(PayloadField("user_id", .string(userID ?? "")))
            fields.append(PayloadField("account_id", .string(accountID ?? "")))
            return Signed(
                header: joinedHeader, payload: Array(PayloadValue.object(fields).jsonString.utf8), purpose: .uiRequest,
                userID: userID, accountID: accountID)
        }
        return Signed(header: joinedHeader, payload: body, purpose: .uiRequest, userID: userID, accountID: accountID)
    }

    /// The query's parameters, decoded; the first of a repeated name wins.
    private var queryItems: [String: String] {
        guard let question = target.firstIndex(of: "?") else { return [:] }
        var items: [String: String] = [:]
        for pair in target[target.index(after: question)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = URLComponentEncoding.decode(parts[0], plusIsSpace: true), items[name] == nil else {
                continue
            }
            items[name] = parts.count > 1 ? URLComponentEncoding.decode(parts[1], plusIsSpace: true) : ""
        }
        return items
    }

    private static func decodeChunked(_ bytes: [UInt8]) throws(ParseError) -> [UInt8] {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let newline = bytes[index...].firstIndex(of: 0x0A) else {
                throw ParseError(
                    message: "The chunked body ends without its last (zero-size) chunk: the file was cut off.")
            }
            let sizeText = String(decoding: bytes[index..<newline], as: UTF8.self)
                .prefix { $0 != ";" && $0 != "\r" }
            guard let size = Int(sizeText, radix: 16), size >= 0 else {
                throw ParseError(message: "A chunk size of the chunked body is not hexadecimal.")
            }
            index = newline + 1
            if size == 0 { return body }
            guard index + size <= bytes.count else {
                throw ParseError(message: "A chunk of the chunked body is cut off.")
            }
            body += bytes[index..<index + size]
            index += size
            if index < bytes.count, bytes[index] == 0x0D { index += 1 }
            if index < bytes.count, bytes[index] == 0x0A { index += 1 }
        }
    }
}
