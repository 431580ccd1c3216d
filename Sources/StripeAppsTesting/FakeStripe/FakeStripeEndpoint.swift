/// The requests the fake serves, matched on method and path segments.
enum FakeStripeEndpoint: Sendable, Equatable {
    case retrieveOwnAccount
    case retrieveAccount(String)
    case createCustomer
    case listCustomers
    case retrieveCustomer(String)
    case listEvents
    case retrieveEvent(String)
    case setSecret
    case listSecrets
    case findSecret
    case deleteSecret
    case oauthToken

    /// Whether a POST to it may carry an `Idempotency-Key`; only POSTs do.
    var isPost: Bool {
        switch self {
        case .createCustomer, .setSecret, .deleteSecret, .oauthToken: true
        default: false
        }
    }

    /// The endpoint for `method` and the percent-decoded path `segments`, if the fake serves it.
    static func match(method: String, segments: [String]) -> FakeStripeEndpoint? {
        switch (method, segments) {
        case ("GET", ["v1", "account"]): .retrieveOwnAccount
        case ("GET", let s) where s.count == 3 && s[0] == "v1" && s[1] == "accounts": .retrieveAccount(s[2])
        case ("POST", ["v1", "customers"]): .createCustomer
        case ("GET", ["v1", "customers"]): .listCustomers
        case ("GET", let s) where s.count == 3 && s[0] == "v1" && s[1] == "customers": .retrieveCustomer(s[2])
        case ("GET", ["v1", "events"]): .listEvents
        case ("GET", let s) where s.count == 3 && s[0] == "v1" && s[1] == "events": .retrieveEvent(s[2])
        case ("POST", ["v1", "apps", "secrets"]): .setSecret
        case ("GET", ["v1", "apps", "secrets"]): .listSecrets
        case ("GET", ["v1", "apps", "secrets", "find"]): .findSecret
        case ("POST", ["v1", "apps", "secrets", "delete"]): .deleteSecret
        case ("POST", ["v1", "oauth", "token"]), ("POST", ["oauth", "token"]): .oauthToken
        default: nil
        }
    }
}
