public import Foundation
import Logging
public import StripeApps

/// The built-in handlers of the app events: installs and uninstalls.
///
/// - `account.application.authorized` creates or re-activates the installation of (account, mode), then runs
///   ``onAuthorized``; a repeated `authorized` (after a permission change) updates it.
/// - `account.application.deauthorized` deactivates it and, in the same transaction, deletes the tenant's
///   settings and credentials, keeping the installation as a tombstone plus an audit record; then ``purge``
///   deletes the app's own data.
/// - Both go through ``StripeApps/InstallationStore/apply(_:)``, the write path the install callback uses too,
///   with the event's `created` as the time of the change: an event older than the change that last set the
///   installation changes nothing (events arrive out of order), so a late `deauthorized` never purges a
///   reinstall.
public struct InstallLifecycle: Sendable {
    /// Runs after an installation was created, re-activated or confirmed by an `authorized` event.
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
    public func register(
        in handlers: inout EventHandlers,
        installations: some InstallationStore,
        now: @escaping @Sendable () -> Date
    ) {
        /// Applies the event's change; returns the tenant and the outcome.
        @Sendable func apply(_ action: InstallationChange.Action, _ context: EventContext) async throws
            -> (Tenant, InstallationChange.Outcome)?
        {
            guard let tenant = context.tenant else { return nil }
            let outcome = try await installations.apply(
                InstallationChange(
                    tenant: tenant,
                    action: action,
                    source: .event(type: context.event.type, id: context.event.id),
                    occurredAt: Date(timeIntervalSince1970: TimeInterval(context.event.created)),
                    recordedAt: now()
                )
            )
            if outcome != .applied {
                context.logger.info(
                    "older \(context.event.type) changed nothing: a newer change set the installation",
                    metadata: ["installation.outcome": "\(outcome)"])
            }
            return (tenant, outcome)
        }
        handlers.on("account.application.authorized") { context in
            guard let (_, outcome) = try await apply(.activate, context), outcome != .superseded else { return }
            try await onAuthorized(context)
        }
        handlers.on("account.application.deauthorized") { context in
            guard let (tenant, outcome) = try await apply(.deactivate, context), outcome == .applied else { return }
            try await purge(tenant, context)
        }
    }
}
