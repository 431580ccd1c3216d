public import StripeApps

/// A ``TenantSecretStore`` backed by Stripe's Apps Secret Store of each tenant's account (`account` scope).
///
/// The secret stays with Stripe, where the app's UI extension can read it too. Stripe allows 10 secrets per
/// scope. After the app is uninstalled its credentials no longer reach the account, so these secrets cannot
/// be deleted from the backend then; delete them while installed (for example when the merchant disconnects the
/// service) or prefer ``TenantCredentials``, which the uninstall purge deletes.
public struct SecretStoreSecrets: TenantSecretStore {
    private let client: @Sendable (Tenant) async throws -> StripeClient

    /// Creates the store.
    ///
    /// - Parameter client: The tenant's Stripe client, e.g. `{ try stripe.client(for: $0) }` for platform apps
    ///   or `{ try await oauthTokens.client(for: $0) }` for OAuth apps.
    public init(client: @escaping @Sendable (Tenant) async throws -> StripeClient) {
        self.client = client
    }

    public func secret(named name: String, for tenant: Tenant) async throws -> String? {
        try await client(tenant).secrets.find(name)?.payload
    }

    public func setSecret(_ value: String, named name: String, for tenant: Tenant) async throws {
        try await client(tenant).secrets.set(name, payload: value)
    }

    public func deleteSecret(named name: String, for tenant: Tenant) async throws {
        do {
            try await client(tenant).secrets.delete(name)
        } catch let error as StripeAPIError where error.httpStatus == 404 {
            return
        }
    }
}
