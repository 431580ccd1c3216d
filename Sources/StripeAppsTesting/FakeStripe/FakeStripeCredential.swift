import StripeApps

/// The credential of a request, resolved against the fake's keys.
enum FakeStripeCredential: Sendable {
    /// A platform secret key.
    case platform(Tenant.Mode, masked: String)
    /// A restricted key, bound to its account and mode.
    case restricted(Tenant, masked: String)
    /// An OAuth access token, bound to its account and mode; `expired` once its lifetime has passed.
    case oauth(Tenant, expired: Bool, masked: String)
    /// No key at all.
    case missing
    /// A key the fake does not know.
    case invalid(masked: String)

    /// The public kind.
    var kind: FakeStripe.CredentialKind {
        switch self {
        case .platform: .platform
        case .restricted: .restricted
        case .oauth: .oauth
        case .missing: .missing
        case .invalid: .invalid
        }
    }

    /// The mode, for known keys.
    var mode: Tenant.Mode? {
        switch self {
        case .platform(let mode, _): mode
        case .restricted(let tenant, _), .oauth(let tenant, _, _): tenant.mode
        case .missing, .invalid: nil
        }
    }

    /// The key, masked as in Stripe's messages.
    var masked: String {
        switch self {
        case .platform(_, let masked), .restricted(_, let masked), .oauth(_, _, let masked), .invalid(let masked):
            masked
        case .missing: ""
        }
    }
}
