import Synchronization

/// The closures to call when another instance stored an event.
final class WakeUpHandlers: Sendable {
    private let handlers = Mutex<[@Sendable () -> Void]>([])

    func add(_ handler: @escaping @Sendable () -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    func fire() {
        for handler in handlers.withLock({ $0 }) { handler() }
    }
}
