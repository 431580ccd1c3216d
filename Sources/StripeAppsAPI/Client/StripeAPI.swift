public import AsyncHTTPClient
public import Logging
public import StripeApps

/// The entry point to the Stripe API: it holds the configuration and the developer's secret keys and hands
/// out clients, each bound to one tenant.
///
/// ```swift
/// let stripe = try StripeAPI(secretKeys: [APICredential(secretKey: liveKey), APICredential(secretKey: testKey)])
/// let client = try stripe.client(for: verifiedUser.tenant)   // sk_test_… + Stripe-Account: acct_…
/// let customer = try await client.customers.create(["email": "jenny@example.com"])
/// ```
///
/// There is no call that takes an account id: the account and the mode come from the ``Tenant`` a client
/// was made for, so a handler cannot act on another account than the one it serves, nor use a live key for a
/// test-mode tenant.
public struct StripeAPI: Sendable {
    /// How clients reach Stripe.
    public let configuration: StripeAPIConfiguration
    let transport: StripeTransport
    private let secretKeys: [Tenant.Mode: APICredential]

    /// Creates the entry point.
    ///
    /// - Parameters:
    ///   - configuration: The base URL, pinned API version, time-out and retry policy.
    ///   - secretKeys: The developer's secret keys (`sk_live_…`, `sk_test_…`), at most one per mode. Platform
    ///     apps call with these plus `Stripe-Account`; OAuth apps need them to exchange and refresh tokens.
    ///   - httpClient: The HTTP client. By default, one with `HTTPClient.shared`'s configuration and
    ///     AsyncHTTPClient's own tracing off, since each call has a client span of ours (a client given here that
    ///     traces adds a span of its own, with the full URL, and a second `traceparent`).
    ///   - logger: Where retries are logged (never with a key).
    public init(
        configuration: StripeAPIConfiguration = StripeAPIConfiguration(),
        secretKeys: [APICredential] = [],
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "stripe-apps.api")
    ) throws(StripeAPIError) {
        try self.init(
            configuration: configuration,
            secretKeys: secretKeys,
            httpClient: httpClient,
            logger: logger,
            sleep: { try await Task.sleep(for: $0) },
            jitter: { Double.random(in: 0...1) }
        )
    }

    /// Creates the entry point with injected waits and jitter, for tests of the retry rules.
    package init(
        configuration: StripeAPIConfiguration,
        secretKeys: [APICredential],
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "stripe-apps.api"),
        sleep: @escaping @Sendable (Duration) async throws -> Void,
        jitter: @escaping @Sendable () -> Double
    ) throws(StripeAPIError) {
        var keys: [Tenant.Mode: APICredential] = [:]
        for key in secretKeys {
            guard key.kind == .secretKey else {
                throw StripeAPIError(.invalidCall, message: "Only secret keys (sk_…) can be the developer's keys.")
            }
            guard keys.updateValue(key, forKey: key.mode) == nil else {
                throw StripeAPIError(.invalidCall, message: "Two \(key.mode)-mode secret keys were given; give one.")
            }
        }
        self.configuration = configuration
        self.secretKeys = keys
        self.transport = StripeTransport(
            configuration: configuration,
            httpClient: httpClient ?? .untraced,
            logger: logger,
            sleep: sleep,
            jitter: jitter
        )
    }

    /// Whether a secret key is configured for `mode`.
    public func hasSecretKey(for mode: Tenant.Mode) -> Bool { secretKeys[mode] != nil }

    /// A client for a platform app's tenant: the secret key of the tenant's mode plus
    /// `Stripe-Account: <tenant's account>`.
    ///
    /// Throws ``StripeAPIError/Code/missingCredential`` when no key is configured for the tenant's mode.
    public func client(for tenant: Tenant) throws(StripeAPIError) -> StripeClient {
        let key = try secretKey(for: tenant.mode)
        return StripeClient(tenant: tenant, credential: key, stripeAccount: tenant.accountID, transport: transport)
    }

    /// A client for a restricted-key app's tenant, with the key the installing user gave.
    ///
    /// Throws ``StripeAPIError/Code/tenantMismatch`` when the key's mode is not the tenant's.
    public func client(for tenant: Tenant, restrictedKey: APICredential) throws(StripeAPIError) -> StripeClient {
        guard restrictedKey.kind == .restrictedKey else {
            throw StripeAPIError(
                .invalidCall, message: "Expected a restricted key (rk_…), got a \(restrictedKey.kind).")
        }
        return try boundClient(for: tenant, credential: restrictedKey)
    }

    /// A client for an OAuth app's tenant with its access token; ``OAuthTokens`` keeps tokens fresh and
    /// makes these for you.
    public func client(for tenant: Tenant, oauthAccessToken: APICredential) throws(StripeAPIError) -> StripeClient {
        guard oauthAccessToken.kind == .oauthAccessToken else {
            throw StripeAPIError(
                .invalidCall, message: "Expected an OAuth access token, got a \(oauthAccessToken.kind).")
        }
        return try boundClient(for: tenant, credential: oauthAccessToken)
    }

    private func boundClient(for tenant: Tenant, credential: APICredential) throws(StripeAPIError) -> StripeClient {
        guard credential.mode == tenant.mode else {
            throw StripeAPIError(
                .tenantMismatch,
                message:
                    "A \(credential.mode)-mode \(credential.kind) cannot serve the \(tenant.mode)-mode tenant \(tenant)."
            )
        }
        return StripeClient(tenant: tenant, credential: credential, stripeAccount: nil, transport: transport)
    }

    /// The developer's secret key of `mode`.
    func secretKey(for mode: Tenant.Mode) throws(StripeAPIError) -> APICredential {
        guard let key = secretKeys[mode] else {
            throw StripeAPIError(
                .missingCredential,
                message:
                    "No \(mode)-mode secret key is configured (STRIPE_SECRET_KEY_\(mode.description.uppercased()))."
            )
        }
        return key
    }
}
