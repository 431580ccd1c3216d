public import StripeApps
public import StripeAppsAPI

/// How code running for a tenant (a job, a handler) reaches Stripe and the tenant's own secrets, as the
/// configuration allows.
public struct TenantAccess: Sendable {
    /// The tenant's Stripe client, per `stripe_api_access_type`; `nil` without what that type needs.
    public let clients: TenantClients?
    /// The tenant's sealed secrets (keys of third-party APIs); `nil` without `ENCRYPTION_KEYS`.
    public let credentials: TenantCredentials?

    /// Creates access from parts.
    public init(clients: TenantClients?, credentials: TenantCredentials?) {
        self.clients = clients
        self.credentials = credentials
    }

    /// What the configuration allows: platform apps use the secret keys (`STRIPE_SECRET_KEY_LIVE`/`_TEST`),
    /// OAuth apps the stored tokens and restricted-key apps the stored keys (both need `ENCRYPTION_KEYS`).
    ///
    /// - Parameter observer: Told of every Stripe API attempt and OAuth refresh (the job worker's metrics).
    public init(
        configuration: AppConfiguration, credentials store: some CredentialStore, observer: StripeAPIObserver = .none
    ) {
        let credentials = configuration.credentialCipher.map { TenantCredentials(store: store, cipher: $0) }
        self.credentials = credentials
        guard let api = try? configuration.stripeAPI(observer: observer) else {
            clients = nil
            return
        }
        switch configuration.manifest?.apiAccessType ?? "platform" {
        case "oauth": clients = credentials.map { .oauth(OAuthTokens(api: api, credentials: $0)) }
        case "restricted_api_key": clients = credentials.map { .restrictedKeys(api, $0) }
        default: clients = configuration.stripeSecretKeys.isEmpty ? nil : .platform(api)
        }
    }
}
