/// An error a store throws for a condition its callers handle; anything else is an internal failure.
///
/// The causes and fixes of each code: `Docs/troubleshooting.md`.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable reason.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// A write stated a version that is no longer current.
        public static let versionConflict = Code("version_conflict")
        /// The database cannot be reached or is not usable.
        public static let unavailable = Code("storage_unavailable")

        public var description: String { name }
    }

    /// Why the operation failed.
    public let code: Code
    /// For ``Code/versionConflict``: the current version.
    public let currentVersion: Int?
    /// A message safe to log and to return: no data, no connection strings.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, message: String, currentVersion: Int? = nil) {
        self.code = code
        self.message = message
        self.currentVersion = currentVersion
    }

    public var description: String { "\(code): \(message)" }

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

extension StoreError {
    /// The conflict every store reports for a stale settings version.
    public static func versionConflict(current: Int) -> StoreError {
        StoreError(
            .versionConflict,
            message: "The settings changed since they were read (current version \(current)); read them again.",
            currentVersion: current
        )
    }

    /// The conflict every store reports when a credential was written since it was read (a compare-and-swap lost).
    public static func credentialConflict(current: Int) -> StoreError {
        StoreError(.versionConflict, message: "The credential was changed by another writer.", currentVersion: current)
    }

    /// A stored row no version of this package writes (an unknown status, say).
    public static func corruptRow(_ table: String) -> StoreError {
        StoreError(.unavailable, message: "A \(table) row holds a value this version cannot read.")
    }
}
