#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Who a Secret Store secret belongs to: the whole account, or one user of it.
public struct SecretScope: Sendable, Hashable, Decodable, CustomStringConvertible {
    /// `account` or `user`.
    public let type: String
    /// The user (`usr_…`) of a user scope.
    public let user: String?

    /// Shared by every user of the account (and the app's backend). One per app and account.
    public static let account = SecretScope(type: "account", user: nil)

    /// Private to one user of the account.
    public static func user(_ userID: String) -> SecretScope { SecretScope(type: "user", user: userID) }

    var formValue: FormValue {
        var fields: FormParameters = ["type": .string(type)]
        if let user { fields["user"] = .string(user) }
        return .object(fields)
    }

    public var description: String { user.map { "user(\($0))" } ?? type }
}

/// A secret of the Stripe Apps Secret Store (`apps.secret`).
public struct AppSecret: Decodable, Sendable, Hashable {
    /// `appsecret_…`.
    public let id: String
    /// The name, unique within its scope.
    public let name: String
    /// Who it belongs to.
    public let scope: SecretScope
    /// The secret value, present only when asked for (``AppSecrets/find(_:scope:)``).
    public let payload: String?
    /// When Stripe deletes it (Unix seconds), if ever.
    public let expiresAt: Int64?
    /// When it was created (Unix seconds).
    public let created: Int64
    /// Whether it lives in live mode.
    public let livemode: Bool
    /// `true` in the answer to a deletion.
    public let deleted: Bool?

    enum CodingKeys: String, CodingKey {
        case id, name, scope, payload, created, livemode, deleted
        case expiresAt = "expires_at"
    }
}

/// The Stripe Apps Secret Store of the client's tenant (`/v1/apps/secrets`).
///
/// Stripe keeps at most 10 secrets per scope; names are unique within a scope, and setting an existing name
/// replaces its value.
public struct AppSecrets: Sendable {
    let client: StripeClient

    /// Creates or replaces the secret `name` in `scope`.
    @discardableResult
    public func set(
        _ name: String,
        payload: String,
        scope: SecretScope = .account,
        expiresAt: Date? = nil,
        idempotencyKey: IdempotencyKey = .random()
    ) async throws -> AppSecret {
        var parameters: FormParameters = ["name": .string(name), "payload": .string(payload), "scope": scope.formValue]
        if let expiresAt { parameters["expires_at"] = .integer(Int64(expiresAt.timeIntervalSince1970.rounded(.up))) }
        return try await client.post("/v1/apps/secrets", parameters, idempotencyKey: idempotencyKey).decode()
    }

    /// The secret `name` in `scope` with its payload, or `nil` when there is none.
    public func find(_ name: String, scope: SecretScope = .account) async throws -> AppSecret? {
        do {
            return try await client.get(
                "/v1/apps/secrets/find",
                ["name": .string(name), "scope": scope.formValue, "expand": ["payload"]]
            ).decode()
        } catch let error as StripeAPIError where error.httpStatus == 404 {
            return nil
        }
    }

    /// Every secret of `scope`, without payloads.
    public func all(scope: SecretScope = .account, limit: Int = 100) -> AutoPagingSequence<AppSecret> {
        client.autoPaging("/v1/apps/secrets", ["scope": scope.formValue, "limit": .integer(Int64(limit))])
    }

    /// Deletes the secret `name` in `scope`.
    @discardableResult
    public func delete(_ name: String, scope: SecretScope = .account) async throws -> AppSecret {
        try await client.post("/v1/apps/secrets/delete", ["name": .string(name), "scope": scope.formValue]).decode()
    }
}

extension StripeClient {
    /// The tenant's Secret Store.
    public var secrets: AppSecrets { AppSecrets(client: self) }
}
