/// Backend-wide values, such as the development app secret.
public protocol MetadataStore: Sendable {
    /// The value stored under `key`, storing `value` first when there is none (atomically: the first writer wins,
    /// across instances).
    func value(forKey key: String, insertingIfMissing value: String) async throws -> String
}
