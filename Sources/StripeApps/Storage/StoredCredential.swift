#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A tenant's credential as the store keeps it: sealed (encrypted and authenticated) by a
/// ``CredentialCipher``, never in clear.
public struct StoredCredential: Sendable, Hashable, Identifiable {
    /// What identifies a credential: its tenant and name (a position in ``CredentialStore/credentials(after:limit:)``).
    public struct ID: Sendable, Hashable {
        /// Whose credential it is.
        public let tenant: Tenant
        /// Its name within the tenant.
        public let name: String

        /// Creates an identifier.
        public init(tenant: Tenant, name: String) {
            self.tenant = tenant
            self.name = name
        }
    }

    /// Whose credential it is.
    public let tenant: Tenant
    /// Its name within the tenant (`stripe.oauth`, `mailer.api_key`, …).
    public let name: String
    /// The sealed bytes.
    public let sealed: [UInt8]
    /// 1 when first written, then one more per replacement: the version a compare-and-swap write states.
    public let version: Int
    /// When it was last written.
    public let updatedAt: Date

    /// Its tenant and name.
    public var id: ID { ID(tenant: tenant, name: name) }

    /// Creates a record.
    public init(tenant: Tenant, name: String, sealed: [UInt8], version: Int, updatedAt: Date) {
        self.tenant = tenant
        self.name = name
        self.sealed = sealed
        self.version = version
        self.updatedAt = updatedAt
    }
}
