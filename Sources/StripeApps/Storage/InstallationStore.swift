/// The installation record of each tenant, changed only through ``InstallationChange`` commands.
///
/// Both the install callback and the `account.application.*` event handlers go through
/// ``apply(_:)``, so one ordering rule decides: a change older than the one that last set the record never
/// undoes it (events arrive out of order, and a late `deauthorized` must not purge a reinstall).
public protocol InstallationStore: Sendable {
    /// The installation record of a tenant, or `nil` when the app was never installed there.
    func installation(for tenant: Tenant) async throws -> Installation?
    /// Every installation record, tombstones included, ordered by account then mode (test first).
    func installations() async throws -> [Installation]
    /// Applies an install or an uninstall unless a newer change already set the record (see
    /// ``InstallationChange``); an applied deactivation deletes the tenant's data in the same transaction.
    func apply(_ change: InstallationChange) async throws -> InstallationChange.Outcome
}
