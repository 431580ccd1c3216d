/// Backend-wide values, such as the development app secret.
public protocol MetadataStore: Sendable {
    /// The value stored under `key`, storing `value` first when there is none (atomically: the first writer wins,
    /// across instances).
    func value(forKey key: String, insertingIfMissing value: String) async throws -> String

    /// The value stored under `key`, if any; stores nothing (the commands that only read use it, so that reading
    /// never creates a development secret).
    func value(forKey key: String) async throws -> String?
}
