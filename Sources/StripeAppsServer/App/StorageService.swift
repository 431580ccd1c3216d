public import ServiceLifecycle
public import StripeApps

/// Runs a ``StripeApps/StorageBackend`` as a `Service`, so the application's service group owns its lifetime:
/// connections open before the server starts and close after it stopped.
///
/// The core library knows nothing of swift-service-lifecycle; this adapter is how any backend, the in-memory
/// one included, joins the group.
public struct StorageService<Backend: StorageBackend>: Service {
    /// The backend.
    public let backend: Backend

    /// Wraps a backend.
    public init(_ backend: Backend) {
        self.backend = backend
    }

    /// Runs the backend until the group shuts it down: graceful shutdown cancels it, last of all services.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await backend.run() }
    }
}
