import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import StripeApps

/// Renders the admin page's templates into responses with the admin security headers.
struct AdminPages: Sendable {
    let library: MustacheLibrary
    let sessions: AdminSessions

    /// The content security policy of every admin response: this origin's style sheet, nothing else; no script,
    /// no inline style, no frame, forms posting only here.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// Parses every template once.
    ///
    /// - Throws: a Mustache parser error, which the tests rule out for the templates shipped.
    init(sessions: AdminSessions) throws {
        var library = MustacheLibrary()
        for (name, text) in AdminTemplates.all { try library.register(text, named: name) }
        self.library = library
        self.sessions = sessions
    }

    /// What a page shows besides its body.
    struct Frame {
        var title: String
        var code = "ok"
        var session: AdminSession?
        var notice: String?
        var status: HTTPResponse.Status = .ok
        /// The page's own URL, when it offers auto-refresh (`?refresh=N` adds a meta refresh).
        var refreshable: Request?
    }

    /// A page: `template` rendered with `data`, inside the layout.
    func page(_ template: String, _ data: [String: Any], _ frame: Frame) -> Response {
        // An empty text counts as present for a Mustache section: leave it out, so `{{#x}}` hides what is empty.
        var data = data.filter { !(($0.value as? String)?.isEmpty ?? false) }
        if let session = frame.session {
            data["csrf"] = sessions.csrfToken(for: session)
            data["canAct"] = !session.isReadOnly
        }
        let body = library.render(data, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": frame.title, "code": frame.code, "body": body]
        if let session = frame.session {
            layout["session"] =
                [
                    "actor": session.actor, "readOnly": session.isReadOnly, "csrf": sessions.csrfToken(for: session),
                ] as [String: Any]
        }
        if let notice = frame.notice { layout["notice"] = notice }
        if frame.status.code >= 400 { layout["troubleshooting"] = HTMLPage.troubleshootingLine(code: frame.code) }
        if let request = frame.refreshable {
            layout["refreshable"] = true
            let refresh = request.uri.queryParameters.get("refresh").flatMap(Int.init).map { min(max($0, 2), 3600) }
            if let refresh { layout["refresh"] = refresh }
            layout["pauseHref"] = Self.href(request, setting: "refresh", to: nil)
            layout["refreshHref"] = Self.href(request, setting: "refresh", to: "10")
        }
        let html = library.render(layout, withTemplate: "layout") ?? ""
        return Response(
            status: frame.status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page with a message only (errors, refusals).
    func message(
        _ status: HTTPResponse.Status, code: String, title: String, message: String, back: String? = nil,
        session: AdminSession? = nil
    ) -> Response {
        var data: [String: Any] = ["message": message]
        if let back { data["back"] = back }
        return page("message", data, Frame(title: title, code: code, session: session, status: status))
    }

    /// A 303 to `location` (always a path of this site).
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// `request`'s path and query with `name` set to `value` (removed when `nil`) and the `notice` dropped.
    static func href(_ request: Request, setting name: String, to value: String?) -> String {
        var items = queryItems(request).filter { $0.name != name && $0.name != "notice" }
        if let value { items.append(URLQueryItem(name: name, value: value)) }
        return path(request.uri.path, items)
    }

    /// The query of `request`, as items.
    static func queryItems(_ request: Request) -> [URLQueryItem] {
        request.uri.queryParameters.map { URLQueryItem(name: String($0.key), value: String($0.value)) }
    }

    /// `path` with `items` as its query, every part percent-encoded.
    static func path(_ path: String, _ items: [URLQueryItem]) -> String {
        var components = URLComponents()
        components.path = path
        let kept = items.filter { !($0.value ?? "").isEmpty }
        components.queryItems = kept.isEmpty ? nil : kept
        return (components.string ?? path).replacingOccurrences(of: "+", with: "%2B")
    }

    /// One path segment, percent-encoded (ids come from Stripe's payloads: any character may be in them).
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// The page of one tenant.
    static func tenantHref(_ tenant: Tenant) -> String {
        "/admin/installations/\(tenant.mode)/\(segment(tenant.accountID))"
    }

    /// A time as the pages show it: ISO 8601 in UTC.
    static func time(_ date: Date?) -> String {
        guard let date else { return "" }
        return date.formatted(.iso8601)
    }

    /// A JSON text indented two spaces per level, keys in their order; the text as it is when it is not JSON.
    static func prettyJSON(_ text: String) -> String {
        guard let value = try? PayloadValue.parse(Array(text.utf8)) else { return text }
        var output = ""
        write(value, indent: 0, to: &output)
        return output
    }

    private static func write(_ value: PayloadValue, indent: Int, to output: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch value {
        case .array(let values) where !values.isEmpty:
            output += "[\n"
            for (index, element) in values.enumerated() {
                output += pad
                write(element, indent: indent + 1, to: &output)
                output += index == values.count - 1 ? "\n" : ",\n"
            }
            output += closing + "]"
        case .object(let fields) where !fields.isEmpty:
            output += "{\n"
            for (index, field) in fields.enumerated() {
                output += pad + PayloadValue.string(field.key).jsonString + ": "
                write(field.value, indent: indent + 1, to: &output)
                output += index == fields.count - 1 ? "\n" : ",\n"
            }
            output += closing + "}"
        default:
            output += value.jsonString
        }
    }

    /// Options of a `<select>`: an empty "any" first, then `values`, the one matching `selected` marked.
    static func options(_ values: [String], selected: String?) -> [[String: Any]] {
        [["value": "", "label": "any", "selected": selected == nil]]
            + values.map { ["value": $0, "label": $0, "selected": $0 == selected] }
    }
}
