#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A command that installs or uninstalls the app for a tenant: the one way installation records change.
///
/// The install callback and the `account.application.authorized` / `deauthorized` handlers all send one. A
/// change carries the time it *happened* (``occurredAt``: the event's `created`, or the time Stripe signed the
/// install redirect), and the store compares it with the time of the change that last set the record:
///
/// - not older: it applies (``Outcome/applied``); the same change again, as a retried handler sends it,
///   applies again, and an applied deactivation deletes the tenant's settings and credentials and appends an
///   audit record (once per source) in the same transaction;
/// - older, and the record already has the status it asks for: ``Outcome/alreadyApplied``, nothing is written
///   (the `authorized` event that follows the install callback of the same install);
/// - older, and the record has the other status: ``Outcome/superseded``, nothing is written (a late
///   `deauthorized` processed after a reinstall leaves the new install and its tokens alone).
public struct InstallationChange: Sendable, Hashable {
    /// What the change does.
    public struct Action: Sendable, Hashable, CustomStringConvertible {
        /// The status the record gets.
        public let status: Installation.Status

        /// Installs or re-activates.
        public static let activate = Action(status: .active)
        /// Uninstalls: the record stays as a tombstone and the tenant's data is deleted.
        public static let deactivate = Action(status: .inactive)

        private init(status: Installation.Status) {
            self.status = status
        }

        public var description: String { status == .active ? "activate" : "deactivate" }
    }

    /// Where the change came from, kept with the record and written into the audit log.
    public struct Source: Sendable, Hashable, CustomStringConvertible {
        /// A short stable text: `account.application.deauthorized evt_…`, `install_callback`, `oauth_callback`.
        public let description: String

        private init(_ description: String) {
            self.description = description
        }

        /// A verified app event.
        public static func event(type: String, id: String) -> Source { Source("\(type) \(id)") }
        /// The signed install-link redirect.
        public static let installCallback = Source("install_callback")
        /// The redirect of an OAuth app, after the code exchange.
        public static let oauthCallback = Source("oauth_callback")

        /// Reads a stored source text.
        public init(stored: String) {
            self.description = stored
        }
    }

    /// The result of ``InstallationStore/apply(_:)``.
    public struct Outcome: Sendable, Hashable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// The record now says what the change said.
        public static let applied = Outcome("applied")
        /// A newer change had already set the same status; nothing was written.
        public static let alreadyApplied = Outcome("already_applied")
        /// A newer change had set the other status; nothing was written.
        public static let superseded = Outcome("superseded")

        public var description: String { name }
    }

    /// Whose installation.
    public let tenant: Tenant
    /// Activate or deactivate.
    public let action: Action
    /// Where it came from.
    public let source: Source
    /// When it happened, for ordering: the event's `created` or the signed redirect's time.
    public let occurredAt: Date
    /// When it is recorded: the record's `updatedAt` (and `createdAt` for a first record).
    public let recordedAt: Date

    /// Creates a change.
    public init(tenant: Tenant, action: Action, source: Source, occurredAt: Date, recordedAt: Date) {
        self.tenant = tenant
        self.action = action
        self.source = source
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
    }

    /// The outcome of this change against the current record, for stores implementing ``InstallationStore``.
    public func outcome(against current: Installation?) -> Outcome {
        guard let current, let last = current.lastChangedAt, last > occurredAt else { return .applied }
        return current.status == action.status ? .alreadyApplied : .superseded
    }

    /// The record after this change applied to `current`; an operator's block stays.
    public func applied(to current: Installation?) -> Installation {
        Installation(
            tenant: tenant,
            status: action.status,
            createdAt: current?.createdAt ?? recordedAt,
            updatedAt: recordedAt,
            lastChangedAt: occurredAt,
            lastChangedBy: source.description,
            block: current?.block
        )
    }

    /// The audit record an applied deactivation appends.
    public var auditRecord: AuditRecord {
        AuditRecord(tenant: tenant, action: "purged", reason: source.description, date: recordedAt)
    }
}
