public import Logging
public import StripeApps

/// What a handler gets besides the event: the tenant and a stable idempotency key.
public struct EventContext: Sendable {
    /// The event.
    public let event: AppEvent
    /// The account and mode the event is about, from the event's own `account` and `livemode`.
    public let tenant: Tenant?
    /// The logger, with the event id, type and tenant as metadata.
    public let logger: Logger

    /// An idempotency key derived from the event id and a step name, the same on every retry: use it for
    /// every POST to Stripe a handler makes, so that a retried handler cannot create anything twice.
    public func idempotencyKey(step: String) -> String {
        "\(event.id):\(step)"
    }
}

/// Handlers by event type. Every handler registered for a type runs, in order; if one throws, the event is
/// retried (all of them run again: handlers must be idempotent, which the idempotency key makes easy).
public struct EventHandlers: Sendable {
    /// A handler.
    public typealias Handler = @Sendable (EventContext) async throws -> Void

    private var handlers: [String: [Handler]] = [:]
    private var fallback: [Handler] = []

    /// No handlers.
    public init() {}

    /// Runs `handler` for events of `type`, e.g. `payment_intent.succeeded`.
    public mutating func on(_ type: String, _ handler: @escaping Handler) {
        handlers[type, default: []].append(handler)
    }

    /// Runs `handler` for every event type from Stripe (not for the backend's own follow-up events, whose type
    /// starts with `stripe_apps_backend.`).
    public mutating func onEvery(_ handler: @escaping Handler) {
        fallback.append(handler)
    }

    /// Adds every handler of `other` after this one's.
    public mutating func add(_ other: EventHandlers) {
        handlers.merge(other.handlers) { $0 + $1 }
        fallback += other.fallback
    }

    /// Whether any handler runs for events of `type`.
    func handles(_ type: String) -> Bool {
        !handlers(for: type).isEmpty
    }

    /// The handlers of a type, type-specific ones first. The backend's own event types
    /// (``InstallFollowUps/reservedTypePrefix``) go to their own handlers only.
    func handlers(for type: String) -> [Handler] {
        (handlers[type] ?? []) + (type.hasPrefix(InstallFollowUps.reservedTypePrefix) ? [] : fallback)
    }
}
