#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Tenants' sealed credentials (see ``TenantCredentials``), and the audit log of what was done to tenant data.
public protocol CredentialStore: Sendable {
    /// The sealed credential `name` of a tenant, or `nil`.
    func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential?
    /// Writes the sealed credential `name` of a tenant and returns the stored record.
    ///
    /// With `expectedVersion` `nil` the write is unconditional. Otherwise it is a compare-and-swap: it applies only
    /// if the current version is `expectedVersion` (`0`: there must be none yet), and throws
    /// ``StoreError/Code/versionConflict`` when another writer came first, so a rotated OAuth refresh token is
    /// never overwritten by an older one.
    ///
    /// The version is bound into what ``CredentialCipher`` seals, so callers that seal (``TenantCredentials``)
    /// always state `expectedVersion` and seal for `expectedVersion + 1`, the version this write gives.
    func saveCredential(
        _ sealed: [UInt8],
        named name: String,
        for tenant: Tenant,
        expectedVersion: Int?,
        at date: Date
    ) async throws -> StoredCredential
    /// Every tenant's credentials, a page at a time, for maintenance such as resealing after a key rotation.
    ///
    /// Credentials come ordered by account, mode and name (in the backend's own collation), starting after
    /// `position` (from the start when `nil`), at most `limit` of them; pass the last one's ``StoredCredential/id``
    /// for the next page, and stop at an empty page. Credentials written while paging may or may not be listed;
    /// none is listed twice.
    func credentials(after position: StoredCredential.ID?, limit: Int) async throws -> [StoredCredential]
    /// Deletes the credential `name` of a tenant; returns whether there was one.
    func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool
    /// The audit records of a tenant, oldest first.
    func auditRecords(for tenant: Tenant) async throws -> [AuditRecord]
}
