import HTTPTypes
import Hummingbird
import NIOCore

/// A small HTML page for people (the install flow), escaped throughout, with the outcome's stable code in
/// `data-code` for scripts and tests. It never shows request input, stack traces or secrets. An error page (status
/// 400 or more) ends with a line for the app's developers naming the code and `Docs/troubleshooting.md`.
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
            <body data-code="\(Self.escape(code))"><main><h1>\(Self.escape(title))</h1><p>\(Self.escape(message))</p></main>\(footer)</body></html>
            """
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The line that points the app's developers to the guide, on error pages only.
    private var footer: String {
        guard status.code >= 400 else { return "" }
        return "<footer><p>\(Self.escape(Self.troubleshootingLine(code: code)))</p></footer>"
    }

    /// For the app's developers: where the code of an error page is explained.
    static func troubleshootingLine(code: String) -> String {
        "For the app's developers: code \(code) is explained, with its usual causes and the fix, in "
            + "Docs/troubleshooting.md of stripe-apps-backend."
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
