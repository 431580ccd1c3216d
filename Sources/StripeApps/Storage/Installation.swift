#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// What the backend knows about the app's installation for one tenant.
public struct Installation: Hashable, Sendable {
    /// Whether the app is installed for the tenant.
    public struct Status: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// Installed and authorized.
        public static let active = Status(name: "active")
        /// Uninstalled (deauthorized); only a tombstone remains.
        public static let inactive = Status(name: "inactive")

        /// Reads a stored status name.
        public init?(_ name: String) {
            guard name == "active" || name == "inactive" else { return nil }
            self.name = name
        }

        private init(name: String) {
            self.name = name
        }

        /// `"active"` or `"inactive"`.
        public var description: String { name }
    }

    /// The tenant.
    public let tenant: Tenant
    /// The current status.
    public var status: Status
    /// When the installation was first recorded.
    public var createdAt: Date
    /// When the status last changed.
    public var updatedAt: Date
    /// When the change that last set the record happened (its ``InstallationChange/occurredAt``); `nil` for
    /// records written before changes carried a time.
    public var lastChangedAt: Date?
    /// The ``InstallationChange/Source`` of that change, as text.
    public var lastChangedBy: String?
    /// The operator's block of the tenant, if any: installs and uninstalls keep it (``TenantBlock``).
    public var block: TenantBlock?

    /// Creates an installation record.
    public init(
        tenant: Tenant,
        status: Status,
        createdAt: Date,
        updatedAt: Date,
        lastChangedAt: Date? = nil,
        lastChangedBy: String? = nil,
        block: TenantBlock? = nil
    ) {
        self.tenant = tenant
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastChangedAt = lastChangedAt
        self.lastChangedBy = lastChangedBy
        self.block = block
    }
}
