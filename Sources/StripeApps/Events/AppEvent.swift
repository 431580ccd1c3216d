/// The envelope of a Stripe event, decoded from a verified webhook body.
///
/// Only what routing and the install lifecycle need is typed; everything else stays in ``payload``. Unknown
/// event types and unknown fields never fail decoding: Stripe adds both without notice.
public struct AppEvent: Sendable, Hashable {
    /// `evt_…`, unique per event: the inbox stores each id once.
    public let id: String
    /// E.g. `account.application.authorized`.
    public let type: String
    /// Whether the event happened in live mode. Events are routed by this, never by the endpoint they reached.
    public let isLiveMode: Bool
    /// When the event was created, in Unix seconds: orders events about the same object.
    public let created: Int64
    /// The connected account the event is about (`acct_…`), when there is one.
    public let accountID: String?
    /// The API version the event was rendered with.
    public let apiVersion: String?
    /// `data.object`.
    public let object: PayloadValue?
    /// The whole event.
    public let payload: PayloadValue

    /// Decodes an event.
    ///
    /// - Parameter json: The verified body.
    /// - Throws: ``SignatureError/Code/invalidPayload`` when the body is not JSON or lacks `id`, `type`,
    ///   `livemode` or `created`.
    public init(json: some Sequence<UInt8>) throws(SignatureError) {
        let value = try PayloadValue.parse(json, maximumDepth: 64)
        func invalid(_ message: String) -> SignatureError { SignatureError(.invalidPayload, message: message) }
        guard case .object = value else { throw invalid("The event is not a JSON object.") }
        guard let id = value["id"]?.stringValue, id.hasPrefix("evt_"), id.count <= 255 else {
            throw invalid("The event has no id of the form evt_….")
        }
        guard let type = value["type"]?.stringValue, !type.isEmpty, type.count <= 255 else {
            throw invalid("The event has no type.")
        }
        guard case .bool(let isLiveMode)? = value["livemode"] else { throw invalid("The event has no livemode.") }
        guard case .number(let created)? = value["created"], created >= 0, created < 1e12, created == created.rounded()
        else {
            throw invalid("The event has no created time.")
        }
        if let object = value["object"]?.stringValue, object != "event" {
            throw invalid("The body is not an event object.")
        }
        self.id = id
        self.type = type
        self.isLiveMode = isLiveMode
        self.created = Int64(created)
        self.accountID = value["account"]?.stringValue
        self.apiVersion = value["api_version"]?.stringValue
        self.object = value["data"]?["object"]
        self.payload = value
    }

    /// The tenant the event belongs to: its account in the mode the event says, or `nil` without an account.
    public var tenant: Tenant? {
        accountID.map { Tenant(accountID: $0, mode: isLiveMode ? .live : .test) }
    }

    /// The `application` object of `account.application.*` events.
    public var application: ApplicationObject? {
        guard let object, object["object"]?.stringValue == "application", let id = object["id"]?.stringValue else {
            return nil
        }
        return ApplicationObject(id: id, name: object["name"]?.stringValue)
    }
}

/// The `application` object carried by `account.application.authorized` and `.deauthorized` events.
public struct ApplicationObject: Sendable, Hashable {
    /// The application id (`ca_…`).
    public let id: String
    /// The app's name, when Stripe includes it.
    public let name: String?

    /// Creates an application object.
    public init(id: String, name: String?) {
        self.id = id
        self.name = name
    }
}
