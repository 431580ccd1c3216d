package import Tracing

/// The client span of one storage call, for the SQLite and PostgreSQL backends: named after the role and the
/// method (`EventInbox.claim`, the same on both backends), with the database system, under the caller's span.
///
/// With no tracer bootstrapped (traces off, the default), the call runs as it is: no name is built and no span
/// started.
package enum StorageSpan {
    /// Runs `body` in a span named after the calling store (`fileID`, e.g. `StripeAppsSQLite/SQLiteEventInbox.swift`)
    /// and method (`function`, e.g. `claim(now:limit:lease:owner:)`).
    package static func run<T>(
        system: String, fileID: String, function: String, tracer: (any Tracer)? = nil,
        _ body: () async throws -> T
    ) async throws -> T {
        try await ChildSpan.run(
            name(fileID: fileID, function: function), kind: .client,
            attributes: { ["db.system.name": .string(system), "stripe_apps.storage.operation": .string($0)] },
            tracer: tracer, body)
    }

    /// `Role.method` from a store's file and a method's signature: the backend's prefix and the `Store` suffix
    /// dropped (`SQLiteInstallStateStore.swift` and `consume(_:hash:now:)` make `InstallState.consume`).
    package static func name(fileID: String, function: String) -> String {
        var type = fileID.split(separator: "/").last.map(String.init) ?? fileID
        if type.hasSuffix(".swift") { type.removeLast(6) }
        if let plus = type.firstIndex(of: "+") { type = String(type[..<plus]) }
        for prefix in ["SQLite", "Postgres"] where type.hasPrefix(prefix) { type.removeFirst(prefix.count) }
        if type.hasSuffix("Store") && type != "Store" { type.removeLast(5) }
        let method = function.prefix { $0 != "(" }
        return "\(type).\(method)"
    }
}
