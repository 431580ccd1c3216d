public import Foundation
import Logging
public import StripeApps

/// The built-in handlers of the app events: installs and uninstalls.
///
/// - `account.application.authorized` creates or re-activates the installation of (account, mode), then runs
///   the install hooks; a repeated `authorized` (after a permission change) updates it.
/// - `account.application.deauthorized` deactivates it, deletes the tenant's data (settings, and everything the
///   purge hooks delete), and keeps only the installation as a tombstone plus an audit record.
/// - An event older than the one that last changed the installation changes nothing: events arrive out of
///   order.
public struct InstallLifecycle: Sendable {
    /// Runs after an installation was created or re-activated by an event.
    public var onAuthorized: @Sendable (EventContext) async throws -> Void
    /// Deletes the app's own data of a tenant that uninstalled; must be idempotent.
    public var purge: @Sendable (Tenant, EventContext) async throws -> Void

    /// Creates the lifecycle with optional hooks.
    public init(
        onAuthorized: @escaping @Sendable (EventContext) async throws -> Void = { _ in },
        purge: @escaping @Sendable (Tenant, EventContext) async throws -> Void = { _, _ in }
    ) {
        self.onAuthorized = onAuthorized
        self.purge = purge
    }

    /// Adds the lifecycle handlers to `handlers`.
    public func register(in handlers: inout EventHandlers, store: some AppStore, now: @escaping @Sendable () -> Date) {
        /// Sets the tenant's installation to `status` unless a newer event already set it; returns the tenant and
        /// the time when it applied.
        @Sendable func apply(_ status: Installation.Status, _ context: EventContext) async throws -> (Tenant, Date)? {
            guard let tenant = context.tenant else { return nil }
            let date = now()
            let applied = try await store.applyInstallationEvent(
                Installation(tenant: tenant, status: status, createdAt: date, updatedAt: date),
                eventCreated: context.event.created
            )
            guard applied else {
                context.logger.info("older \(context.event.type) ignored: a newer event already set the installation")
                return nil
            }
            return (tenant, date)
        }
        handlers.on("account.application.authorized") { context in
            guard try await apply(.active, context) != nil else { return }
            try await onAuthorized(context)
        }
        handlers.on("account.application.deauthorized") { context in
            guard let (tenant, date) = try await apply(.inactive, context) else { return }
            try await purge(tenant, context)
            try await store.purgeTenantData(tenant, reason: "\(context.event.type) \(context.event.id)", at: date)
        }
    }
}
