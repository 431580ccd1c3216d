import StripeApps

/// The fixed configuration of one ``FakeStripe``.
struct FakeStripeSettings: Sendable {
    /// The platform's own account id.
    let platformAccountID: String
    /// The platform secret key of test mode.
    let testSecretKey: String
    /// The platform secret key of live mode.
    let liveSecretKey: String
    /// The `api_version` of events and the default `Stripe-Version` answered.
    let apiVersion: String
    /// OAuth access tokens' lifetime, in seconds.
    let accessTokenLifetime: Int64
    /// The example objects.
    let fixtures: FakeStripeFixtures

    /// The platform account in `mode`.
    func platform(_ mode: Tenant.Mode) -> Tenant {
        Tenant(accountID: platformAccountID, mode: mode)
    }
}
