#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// An event as the durable inbox keeps it.
public struct InboxEvent: Sendable, Hashable {
    /// Where the event is in its processing.
    public struct Status: Sendable, Hashable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// Stored, waiting for the worker.
        public static let pending = Status("pending")
        /// Claimed by a worker, whose lease (``InboxEvent/leaseExpiresAt``) says until when; an expired lease
        /// returns it to the queue.
        public static let running = Status("running")
        /// Handled.
        public static let succeeded = Status("succeeded")
        /// A handler failed; it will be retried.
        public static let failed = Status("failed")
        /// Retries are exhausted; only a manual replay runs it again.
        public static let dead = Status("dead")
        /// Its tenant is blocked (``TenantBlock``): acknowledged and kept, never run; a replay after the tenant is
        /// unblocked runs it.
        public static let blocked = Status("blocked")

        /// All statuses.
        public static let all: [Status] = [.pending, .running, .succeeded, .failed, .dead, .blocked]

        /// Reads a status name.
        public init?(name: String) {
            guard let found = Self.all.first(where: { $0.name == name }) else { return nil }
            self = found
        }

        public var description: String { name }
    }

    /// `evt_…`.
    public let id: String
    /// The event type.
    public let type: String
    /// Live or test, from the event itself.
    public let isLiveMode: Bool
    /// The account, when the event has one.
    public let accountID: String?
    /// The event's creation time, Unix seconds.
    public let created: Int64
    /// When the inbox stored it.
    public let receivedAt: Date
    /// Its processing status.
    public var status: Status
    /// How many times a worker claimed it to run its handlers (a run cut short by a crash counts).
    public var attempts: Int
    /// The verified body, byte for byte.
    public let payload: String
    /// When a failed event is tried again; `nil` when it is not waiting for a retry.
    public var nextAttemptAt: Date?
    /// The last handler error, for operators, at most ``maximumErrorLength`` characters (handlers' error
    /// descriptions are kept as given: they must not contain secrets).
    public var lastError: String?
    /// The worker holding the lease of a running event.
    public var leaseOwner: String?
    /// When the lease of a running event ends, unless its worker extends it.
    public var leaseExpiresAt: Date?
    /// The W3C `traceparent` of the webhook delivery that stored the event, when traces were on: each run of
    /// its handlers links its span to that delivery, however much later and on whichever instance it runs.
    /// Only a trace and span id, never anything from the request.
    public var traceParent: String?

    /// Whether the event is finished (succeeded, dead or blocked): nothing will run it again unless it is replayed,
    /// so its payload may be pruned.
    public var isFinished: Bool { status == .succeeded || status == .dead || status == .blocked }

    /// Whether the payload was deleted (``EventInbox/prune(receivedIn:limit:)``, or the uninstall purge of its
    /// tenant): the id is kept so that a redelivery is still a duplicate, and the event can no longer be replayed.
    public var isPruned: Bool { payload.isEmpty }

    /// This event without its payload and error text, as pruning leaves it.
    public var pruned: InboxEvent {
        InboxEvent(
            id: id, type: type, isLiveMode: isLiveMode, accountID: accountID, created: created, receivedAt: receivedAt,
            status: status, attempts: attempts, payload: "", nextAttemptAt: nextAttemptAt, lastError: nil,
            leaseOwner: leaseOwner, leaseExpiresAt: leaseExpiresAt, traceParent: traceParent)
    }

    /// The longest ``lastError`` a store keeps; longer errors are cut to this many characters.
    public static let maximumErrorLength = 2000

    /// An error text as every store keeps it: cut to ``maximumErrorLength`` characters.
    public static func storedError(_ error: String) -> String {
        String(error.prefix(maximumErrorLength))
    }

    /// Creates a record.
    public init(
        id: String,
        type: String,
        isLiveMode: Bool,
        accountID: String?,
        created: Int64,
        receivedAt: Date,
        status: Status = .pending,
        attempts: Int = 0,
        payload: String,
        nextAttemptAt: Date? = nil,
        lastError: String? = nil,
        leaseOwner: String? = nil,
        leaseExpiresAt: Date? = nil,
        traceParent: String? = nil
    ) {
        self.id = id
        self.type = type
        self.isLiveMode = isLiveMode
        self.accountID = accountID
        self.created = created
        self.receivedAt = receivedAt
        self.status = status
        self.attempts = attempts
        self.payload = payload
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.traceParent = traceParent
    }

    /// A new pending record for a verified event.
    public init(event: AppEvent, payload: String, receivedAt: Date, traceParent: String? = nil) {
        self.init(
            id: event.id,
            type: event.type,
            isLiveMode: event.isLiveMode,
            accountID: event.accountID,
            created: event.created,
            receivedAt: receivedAt,
            payload: payload,
            traceParent: traceParent
        )
    }
}
