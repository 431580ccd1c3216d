/// Why a credential could not be sealed or opened.
///
/// The causes and fixes of each code: `Docs/troubleshooting.md`.
public struct CredentialError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable reason.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// An encryption key is not 32 bytes of base64.
        public static let invalidKey = Code("invalid_encryption_key")
        /// No encryption key is configured.
        public static let missingKey = Code("missing_encryption_key")
        /// The credential was sealed with a key that is no longer configured.
        public static let unknownKey = Code("unknown_encryption_key")
        /// The sealed bytes were altered, or belong to another tenant or name.
        public static let tampered = Code("credential_tampered")

        public var description: String { name }
    }

    /// Why it failed.
    public let code: Code
    /// A message without key material or credential values.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static func == (lhs: CredentialError, rhs: CredentialError) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
