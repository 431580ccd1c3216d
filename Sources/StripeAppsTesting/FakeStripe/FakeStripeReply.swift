import StripeApps

/// A finished answer: status, body text and the headers particular to it.
struct FakeStripeReply: Sendable {
    /// The HTTP status.
    var status: Int
    /// The JSON body, exactly as sent (and as replayed).
    var body: String
    /// Headers beyond the ones every answer has.
    var headers: [(name: String, value: String)] = []
    /// The `Request-Id` of the request that produced the answer.
    var requestID: String
    /// Whether this is an `Idempotency-Key` replay.
    var isReplay = false
    /// Whether an `Idempotency-Key` may save it.
    var isStorable = true

    /// A 200 with `json`.
    init(json: PayloadValue, requestID: String) {
        self.status = 200
        self.body = json.jsonString
        self.requestID = requestID
    }

    /// The answer for `error`.
    init(error: FakeStripeError, requestID: String) {
        self.status = error.status
        self.body = error.body.jsonString
        self.headers = error.headers
        self.requestID = requestID
        self.isStorable = error.isStored
    }
}
