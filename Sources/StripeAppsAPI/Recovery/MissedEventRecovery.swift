public import StripeApps

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Feeds events whose webhook delivery failed into the inbox, through the Events API
/// (`GET /v1/events?delivery_success=false`, the last 30 days), for every active installation of one mode.
///
/// The inbox dedupes on the event id, so running it twice, or while webhooks arrive, stores each event once;
/// the worker then handles recovered events exactly like delivered ones.
public struct MissedEventRecovery: Sendable {
    /// What one run did.
    public struct Report: Sendable, Hashable {
        /// Active installations of the mode that were asked.
        public var installations = 0
        /// Undelivered events Stripe listed.
        public var listed = 0
        /// Events that were new to the inbox.
        public var enqueued = 0
        /// Events the inbox already had.
        public var alreadyInInbox = 0
        /// Listed events skipped because they belong to another mode or account than the installation asked.
        public var skipped = 0
        /// Installations whose listing failed, with the error code (no secrets).
        public var failures: [Failure] = []

        /// One installation that could not be listed.
        public struct Failure: Sendable, Hashable {
            /// The installation.
            public let tenant: Tenant
            /// Why (a ``StripeAPIError/Code`` or the error type).
            public let reason: String
        }
    }

    private let installations: any InstallationStore
    private let inbox: any EventInbox
    private let clients: TenantClients
    private let now: @Sendable () -> Date

    /// Creates the recovery.
    ///
    /// - Parameters:
    ///   - installations: Where the active installations are listed.
    ///   - inbox: Where recovered events go.
    ///   - clients: How a Stripe client is made for each installation.
    ///   - now: The clock of `receivedAt`.
    public init(
        installations: any InstallationStore,
        inbox: any EventInbox,
        clients: TenantClients,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.installations = installations
        self.inbox = inbox
        self.clients = clients
        self.now = now
    }

    /// Recovers the undelivered events of every active installation in `mode`; blocked tenants are left out (their
    /// webhooks are not run either).
    ///
    /// One installation failing (uninstalled meanwhile, a revoked token) is reported and the others go on.
    public func run(mode: Tenant.Mode, types: [String] = []) async throws -> Report {
        var report = Report()
        let active = try await installations.installations().filter {
            $0.status == .active && !$0.isBlocked && $0.tenant.mode == mode
        }
        for installation in active {
            try await recover(installation.tenant, types: types, into: &report)
        }
        return report
    }

    /// Recovers the undelivered events of one installation (a per-installation job does this for each tenant).
    public func run(for tenant: Tenant, types: [String] = []) async throws -> Report {
        var report = Report()
        try await recover(tenant, types: types, into: &report)
        return report
    }

    private func recover(_ tenant: Tenant, types: [String], into report: inout Report) async throws {
        let mode = tenant.mode
        report.installations += 1
        do {
            let client = try await clients.client(for: tenant)
            for try await event in client.events.all(deliverySuccess: false, types: types) {
                report.listed += 1
                guard event.isLiveMode == mode.isLive, event.accountID == nil || event.accountID == tenant.accountID
                else {
                    report.skipped += 1
                    continue
                }
                if try await inbox.enqueue(inboxEvent(event, tenant: tenant)).isNew {
                    report.enqueued += 1
                } else {
                    report.alreadyInInbox += 1
                }
            }
        } catch let error as StripeAPIError {
            report.failures.append(Report.Failure(tenant: tenant, reason: "\(error.code)"))
        } catch let error as CredentialError {
            report.failures.append(Report.Failure(tenant: tenant, reason: "\(error.code)"))
        }
    }

    /// The inbox record; events listed with `Stripe-Account` may lack `account`, which is then added.
    private func inboxEvent(_ event: AppEvent, tenant: Tenant) -> InboxEvent {
        var payload = event.payload
        if event.accountID == nil, case .object(var fields) = payload {
            fields.append(PayloadField("account", .string(tenant.accountID)))
            payload = .object(fields)
        }
        return InboxEvent(
            id: event.id,
            type: event.type,
            isLiveMode: event.isLiveMode,
            accountID: tenant.accountID,
            created: event.created,
            receivedAt: now(),
            payload: payload.jsonString
        )
    }
}
