public import StripeApps

/// Makes the Stripe client of any tenant the way the app's access type requires
/// (`stripe_api_access_type` in `stripe-app.json`).
///
/// ```swift
/// let clients = TenantClients.platform(stripe)          // platform apps (the default)
/// let clients = TenantClients.oauth(tokens)             // OAuth apps
/// let clients = TenantClients.restrictedKeys(stripe, credentials)   // restricted-key apps
/// let client = try await clients.client(for: tenant)
/// ```
public struct TenantClients: Sendable {
    private let make: @Sendable (Tenant) async throws -> StripeClient

    /// Clients from a closure.
    public init(_ make: @escaping @Sendable (Tenant) async throws -> StripeClient) {
        self.make = make
    }

    /// The client of `tenant`.
    public func client(for tenant: Tenant) async throws -> StripeClient {
        try await make(tenant)
    }

    /// Platform apps: the developer's secret key of the tenant's mode plus `Stripe-Account`.
    public static func platform(_ api: StripeAPI) -> TenantClients {
        TenantClients { tenant in try api.client(for: tenant) }
    }

    /// OAuth apps: the tenant's access token, refreshed when needed.
    public static func oauth(_ tokens: OAuthTokens) -> TenantClients {
        TenantClients { tenant in try await tokens.client(for: tenant) }
    }

    /// The name under which restricted-key apps keep each tenant's key in ``TenantCredentials``.
    public static let restrictedKeyCredentialName = "stripe.restricted_key"

    /// Restricted-key apps: the key the installing user gave, kept encrypted under
    /// ``restrictedKeyCredentialName``.
    public static func restrictedKeys(_ api: StripeAPI, _ credentials: TenantCredentials) -> TenantClients {
        TenantClients { tenant in
            guard let key = try await credentials.secret(named: restrictedKeyCredentialName, for: tenant) else {
                throw StripeAPIError(.missingCredential, message: "No restricted key is stored for \(tenant).")
            }
            return try api.client(for: tenant, restrictedKey: APICredential(restrictedKey: key))
        }
    }
}
