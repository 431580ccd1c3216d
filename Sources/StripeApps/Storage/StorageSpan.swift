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
        // Under a request that is not sampled (its children would not be either), checked first: it is the common
        // case with traces on, and looking up the bootstrapped tracer (a lock and two casts) costs more than it.
        if UnsampledTrace.isCurrent { return try await body() }
        // Traces off.
        let tracer = tracer ?? InstrumentationSystem.tracer
        if tracer is NoOpTracer { return try await body() }
        let operation = name(fileID: fileID, function: function)
        return try await tracer.withSpan(operation, ofKind: .client) { span in
            // An unsampled span keeps nothing: no attribute is built for it.
            if span.isRecording {
                span.attributes["db.system.name"] = system
                span.attributes["stripe_apps.storage.operation"] = operation
            }
            return try await body()
        }
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
