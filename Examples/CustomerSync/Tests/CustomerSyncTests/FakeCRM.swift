import CustomerSync
import Foundation
import HTTPTypes
import StripeApps
import StripeAppsTesting
import Synchronization

/// The CRM as the tests see it: a ``FakeHTTPService`` with the CRM's routes, keeping each API key's contacts.
final class FakeCRM: Sendable {
    static let goodKeys = ["crm_key_tenant_a", "crm_key_tenant_b", "crm_key_tenant_c"]

    let service = FakeHTTPService()
    /// Contacts by API key, then by id: `email|name`.
    private final class Book: Sendable {
        let contacts = Mutex<[String: [String: String]]>([:])
    }

    private let book = Book()

    init() {
        service.on(.get, "/v1/me") { request in
            Self.key(of: request).map { Self.goodKeys.contains($0) } == true
                ? .json(.object([PayloadField("account", .string("crm_account"))])) : .status(.unauthorized)
        }
        let book = self.book
        service.on(.put, "/v1/contacts/*") { request in
            guard let key = Self.key(of: request), let id = request.pathSegments.last, let body = request.json else {
                return .status(.badRequest)
            }
            let value = "\(body["email"]?.stringValue ?? "-")|\(body["name"]?.stringValue ?? "-")"
            book.contacts.withLock { $0[key, default: [:]][id] = value }
            return .json(.object([PayloadField("id", .string(id))]))
        }
        service.on(.delete, "/v1/contacts/*") { request in
            guard let key = Self.key(of: request), let id = request.pathSegments.last else {
                return .status(.badRequest)
            }
            let removed = book.contacts.withLock { $0[key]?.removeValue(forKey: id) }
            return .status(removed == nil ? .notFound : .noContent)
        }
    }

    /// The contacts the CRM holds for an API key: id → `email|name`.
    func contacts(key: String) -> [String: String] {
        book.contacts.withLock { $0[key] ?? [:] }
    }

    private static func key(of request: FakeHTTPService.Request) -> String? {
        request.authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
    }
}
