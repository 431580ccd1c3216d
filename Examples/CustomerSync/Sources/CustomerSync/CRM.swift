public import Foundation
import NIOCore
import NIOHTTP1
public import StripeApps
import StripeAppsAPI

/// The third-party CRM the app syncs customers to, called for a tenant with the API key the tenant connected.
///
/// Its API: `GET /v1/me` checks a key, `PUT /v1/contacts/{id}` creates or replaces a contact (keyed by the Stripe
/// customer id, so a repeated call changes nothing twice), `DELETE /v1/contacts/{id}` removes one. Every write
/// sends an `Idempotency-Key`.
public struct CRMClient: Sendable {
    /// The name the tenant's CRM key is stored under.
    public static let credentialName = "crm.api_key"

    let api: ExternalAPIClient

    /// A client of the CRM at `baseURL`, reading each tenant's key from `secrets`.
    public init(baseURL: URL, secrets: any TenantSecretStore) {
        api = ExternalAPIClient(baseURL: baseURL.absoluteString, credentialName: Self.credentialName, secrets: secrets)
    }

    /// Whether the tenant has connected a CRM key.
    public func isConnected(_ tenant: Tenant) async throws -> Bool {
        try await api.isConnected(tenant)
    }

    /// Creates or replaces the contact of a customer.
    func upsert(_ contact: CRMContact, for tenant: Tenant, idempotencyKey: String) async throws {
        let body = ByteBuffer(bytes: try JSONEncoder().encode(contact))
        let response = try await api.send(
            .PUT, "/v1/contacts/" + Self.segment(contact.id),
            headers: ["Content-Type": "application/json", "Idempotency-Key": idempotencyKey], body: body, for: tenant)
        try CRMError.check(response.status, operation: "upsert")
    }

    /// Removes the contact of a deleted customer; a contact the CRM does not have is gone already.
    func delete(contactID: String, for tenant: Tenant, idempotencyKey: String) async throws {
        let response = try await api.send(
            .DELETE, "/v1/contacts/" + Self.segment(contactID), headers: ["Idempotency-Key": idempotencyKey],
            for: tenant)
        guard response.status != .notFound else { return }
        try CRMError.check(response.status, operation: "delete")
    }

    /// A Stripe id as one path segment (ids are letters, digits and `_`; anything else is percent-encoded).
    private static func segment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "_-"))) ?? id
    }
}

/// A contact as the CRM takes it.
struct CRMContact: Codable, Sendable, Hashable {
    let id: String
    let email: String?
    let name: String?
}

/// What the CRM answered when it was not a success.
public struct CRMError: Error, Sendable, CustomStringConvertible {
    /// The operation (`upsert`, `delete`, `check`).
    public let operation: String
    /// The HTTP status.
    public let status: UInt

    /// Whether a later attempt may succeed (429 and 5xx): the event or job is retried. Other answers (a revoked
    /// key, a refused contact) would fail the same way every time.
    public var isTransient: Bool { status == 429 || status >= 500 }

    public var description: String { "the CRM answered \(status) to \(operation)" }

    static func check(_ status: HTTPResponseStatus, operation: String) throws {
        guard !(200..<300).contains(status.code) else { return }
        throw CRMError(operation: operation, status: status.code)
    }
}
