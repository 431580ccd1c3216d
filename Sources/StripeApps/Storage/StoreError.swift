/// An error a store throws for a condition its callers handle; anything else is an internal failure.
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
