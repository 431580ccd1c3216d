#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A record of something done to a tenant's data, kept after the data itself is gone.
public struct AuditRecord: Sendable, Hashable {
    /// The tenant.
    public let tenant: Tenant
    /// What happened, e.g. `purged`.
    public let action: String
    /// Why, e.g. `account.application.deauthorized evt_…`.
    public let reason: String
    /// When.
    public let date: Date

    /// Creates a record.
    public init(tenant: Tenant, action: String, reason: String, date: Date) {
        self.tenant = tenant
        self.action = action
        self.reason = reason
        self.date = date
    }
}
