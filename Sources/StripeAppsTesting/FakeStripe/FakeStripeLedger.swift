import Foundation
import StripeApps

/// What one account holds in one mode; the fake keeps one ledger per ``Tenant`` and nothing crosses between them.
struct FakeStripeLedger: Sendable {
    /// Customers by id.
    var customers: [String: FakeStripeLedger.StoredObject] = [:]
    /// Events by id.
    var events: [String: FakeStripeLedger.StoredEvent] = [:]
    /// Secret Store secrets, by scope and then by name.
    var secrets: [FakeStripeLedger.SecretScope: [String: FakeStripeLedger.StoredSecret]] = [:]
    /// Saved answers to POSTs, by `Idempotency-Key`.
    var idempotency: [String: FakeStripeLedger.StoredReply] = [:]

    /// A stored object: its JSON plus what lists sort by.
    struct StoredObject: Sendable {
        var id: String
        var created: Int64
        var sequence: Int
        var json: PayloadValue

        var entry: FakeStripeList.Entry {
            FakeStripeList.Entry(id: id, created: created, sequence: sequence, object: json)
        }
    }

    /// An event and what `/v1/events` filters on.
    struct StoredEvent: Sendable {
        var object: StoredObject
        var type: String
        var deliverySuccess: Bool
    }

    /// A Secret Store scope: the account, or one user of it.
    struct SecretScope: Sendable, Hashable {
        /// `nil` for `scope[type]=account`, else the `usr_…` id.
        var user: String?

        var json: PayloadValue {
            guard let user else { return .object([PayloadField("type", .string("account"))]) }
            return .object([PayloadField("type", .string("user")), PayloadField("user", .string(user))])
        }
    }

    /// A Secret Store secret.
    struct StoredSecret: Sendable {
        var id: String
        var name: String
        var payload: String
        var scope: SecretScope
        var created: Int64
        var sequence: Int
        var expiresAt: Int64?
    }

    /// The first answer to an idempotent POST, replayed byte for byte.
    struct StoredReply: Sendable {
        var method: String
        var path: String
        var parameters: PayloadValue
        var reply: FakeStripeReply
    }

    /// Forgets secrets whose `expires_at` is not after `timestamp`.
    mutating func purgeExpiredSecrets(at timestamp: Int64) {
        for (scope, byName) in secrets {
            secrets[scope] = byName.filter { secret in secret.value.expiresAt.map { $0 > timestamp } ?? true }
        }
    }
}
