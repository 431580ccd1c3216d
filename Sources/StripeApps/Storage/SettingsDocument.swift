#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A tenant's settings: a flat map of names to strings, numbers or booleans, with a version.
///
/// The shape follows what a UI extension can send signed: `fetchStripeSignature` extra values are flat
/// strings, numbers and booleans. Every successful write increments ``version``; a writer states the
/// version it read, and a stale one is refused (optimistic concurrency).
public struct SettingsDocument: Hashable, Sendable {
    /// 0 when nothing was ever written; incremented by every write.
    public let version: Int
    /// The values, each ``PayloadValue/string(_:)``, ``PayloadValue/number(_:)`` or ``PayloadValue/bool(_:)``.
    public let values: [String: PayloadValue]
    /// When the last write happened, `nil` before the first.
    public let updatedAt: Date?

    /// Creates a document.
    public init(version: Int, values: [String: PayloadValue], updatedAt: Date?) {
        self.version = version
        self.values = values
        self.updatedAt = updatedAt
    }

    /// The document of a tenant that never wrote settings.
    public static let empty = SettingsDocument(version: 0, values: [:], updatedAt: nil)

    /// The next version of this document, for stores implementing ``SettingsStore/updateSettings(for:expectedVersion:_:)``.
    ///
    /// - Parameters:
    ///   - expectedVersion: The version the writer read.
    ///   - date: The time of the write.
    ///   - update: The change to apply to the values.
    /// - Throws: ``StoreError/Code/versionConflict`` when `expectedVersion` is not this document's version, and
    ///   whatever `update` throws.
    public func updated(
        expectedVersion: Int,
        at date: Date,
        by update: (inout [String: PayloadValue]) throws -> Void
    ) throws -> SettingsDocument {
        guard version == expectedVersion else { throw StoreError.versionConflict(current: version) }
        var values = values
        try update(&values)
        return SettingsDocument(version: version + 1, values: values, updatedAt: date)
    }

    /// The values as one JSON object with keys in sorted order, the form stores keep.
    public var valuesJSON: String {
        PayloadValue.object(values.sorted { $0.key < $1.key }.map { PayloadField($0.key, $0.value) }).jsonString
    }

    /// Reads values stored by ``valuesJSON``.
    ///
    /// - Throws: ``SignatureError/Code/invalidPayload`` when the text is not a JSON object.
    public static func values(fromJSON text: String) throws -> [String: PayloadValue] {
        guard case .object(let fields) = try PayloadValue.parse(text) else {
            throw SignatureError(.invalidPayload, message: "Stored settings are not a JSON object.")
        }
        return Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }
}
