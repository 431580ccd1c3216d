public import Foundation
import Logging
public import StripeApps

/// The durable half of an install callback: the event the callback stores in the inbox, in the same
/// transaction that consumes its state, and the built-in handler that runs it.
///
/// The handler records the installation (again: the callback already tried, and a second activation of the same
/// install changes nothing) and then runs ``ApplicationHooks/onInstall``. The inbox retries it with the retry
/// policy of every event until it succeeds, so neither a crash after the state was consumed nor a failing hook
/// loses the install's work. A live install whose mode the install link did not name is not recorded from the
/// unsigned `livemode`: its follow-up waits (failing, with backoff) until the signed
/// `account.application.authorized` event of the live install has activated the installation.
///
/// The event has a reserved type, ``eventType``; it goes to this handler only, never to handlers registered
/// with ``EventHandlers/onEvery(_:)``, and the webhook endpoints refuse events of that type.
public enum InstallFollowUps: Sendable {
    /// The type of the follow-up events.
    public static let eventType = "stripe_apps_backend.install_completed"
    /// Event types starting with this are the backend's own: never accepted from a webhook, never given to
    /// `onEvery` handlers.
    public static let reservedTypePrefix = "stripe_apps_backend."

    /// The follow-up event of an install.
    ///
    /// - Parameters:
    ///   - stateHash: The hash of the consumed state: it names the event, so the same install never queues two.
    ///   - confirmed: Whether the tenant's mode is known from something trusted (the mode the install was started
    ///     for, a test install, or the OAuth token response); when not, the handler waits for the signed event.
    public static func event(
        tenant: Tenant,
        userID: String?,
        source: InstallationChange.Source,
        confirmed: Bool,
        occurredAt: Date,
        stateHash: String,
        receivedAt: Date
    ) -> InboxEvent {
        let id = "evt_install_" + String(InstallState.hash(of: stateHash).prefix(32))
        let created = Int64(occurredAt.timeIntervalSince1970.rounded(.down))
        let object = PayloadValue.object([
            PayloadField("object", .string("install")),
            PayloadField("source", .string(source.description)),
            PayloadField("user_id", userID.map(PayloadValue.string) ?? .null),
            PayloadField("confirmed", .bool(confirmed)),
            PayloadField("occurred_at", .number(occurredAt.timeIntervalSince1970)),
        ])
        let payload = PayloadValue.object([
            PayloadField("id", .string(id)),
            PayloadField("object", .string("event")),
            PayloadField("type", .string(eventType)),
            PayloadField("livemode", .bool(tenant.mode.isLive)),
            PayloadField("account", .string(tenant.accountID)),
            PayloadField("created", .number(Double(created))),
            PayloadField("data", .object([PayloadField("object", object)])),
        ])
        return InboxEvent(
            id: id, type: eventType, isLiveMode: tenant.mode.isLive, accountID: tenant.accountID, created: created,
            receivedAt: receivedAt, payload: payload.jsonString, traceParent: DeliveryTrace.current())
    }

    /// Thrown while a live install started without a mode waits for its signed `authorized` event.
    struct AwaitingConfirmation: Error, CustomStringConvertible {
        let tenant: Tenant
        var description: String {
            "the install redirect said live mode, which is unsigned and was not named when the install started: waiting for the signed account.application.authorized event of \(tenant.accountID) in live mode"
        }
    }

    /// Adds the handler of the follow-up events to `handlers`.
    public static func register(
        in handlers: inout EventHandlers,
        installations: some InstallationStore,
        onInstall: @escaping @Sendable (InstallCompletion) async throws -> Void,
        now: @escaping @Sendable () -> Date
    ) {
        handlers.on(eventType) { context in
            guard let tenant = context.tenant, let object = context.event.object else {
                context.logger.error("install follow-up without account or data: nothing to do")
                return
            }
            let userID = object["user_id"]?.stringValue
            let source = InstallationChange.Source(stored: object["source"]?.stringValue ?? "install_callback")
            if object["confirmed"] == .bool(true) {
                let occurredAt: Date
                if case .number(let seconds)? = object["occurred_at"] {
                    occurredAt = Date(timeIntervalSince1970: seconds)
                } else {
                    occurredAt = Date(timeIntervalSince1970: TimeInterval(context.event.created))
                }
                let outcome = try await installations.apply(
                    InstallationChange(
                        tenant: tenant, action: .activate, source: source, occurredAt: occurredAt, recordedAt: now()))
                guard outcome != .superseded else {
                    context.logger.info("install follow-up skipped: the app was uninstalled after this install")
                    return
                }
            } else {
                guard let installation = try await installations.installation(for: tenant),
                    installation.status == .active
                else { throw AwaitingConfirmation(tenant: tenant) }
            }
            try await onInstall(InstallCompletion(tenant: tenant, userID: userID, source: source))
        }
    }
}

/// What an install hook learns: who installed the app where. It carries no app user: an install is linked to a
/// user of the app's own product only through an install ticket the app's server redeems (see
/// ``InstallTickets``).
public struct InstallCompletion: Sendable, Hashable {
    /// The tenant (account and mode) where the app was installed.
    public let tenant: Tenant
    /// The installing user; `nil` for OAuth apps, whose redirect names no user.
    public let userID: String?
    /// Where the install came from: `install_callback` or `oauth_callback`.
    public let source: InstallationChange.Source

    /// Creates a completion.
    public init(tenant: Tenant, userID: String?, source: InstallationChange.Source = .installCallback) {
        self.tenant = tenant
        self.userID = userID
        self.source = source
    }
}
