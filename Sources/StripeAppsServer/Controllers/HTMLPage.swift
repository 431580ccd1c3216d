import HTTPTypes
import Hummingbird
import NIOCore

/// A small HTML page for people (the install flow), escaped throughout, with the outcome's stable code in
/// `data-code` for scripts and tests. It never shows request input, stack traces or secrets.
struct HTMLPage {
    let status: HTTPResponse.Status
    let code: String
    let title: String
    let message: String

    func response(headers extra: HTTPFields = [:]) -> Response {
        let body = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>\(Self.escape(title))</title></head>
            <body data-code="\(Self.escape(code))"><main><h1>\(Self.escape(title))</h1><p>\(Self.escape(message))</p></main></body></html>
            """
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
