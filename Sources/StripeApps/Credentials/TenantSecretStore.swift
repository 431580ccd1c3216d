/// Where an app keeps a tenant's secrets, such as the merchant's API key for a third-party service.
///
/// Two implementations ship: ``TenantCredentials`` (encrypted in our own storage, deleted when the app is
/// uninstalled) and, in `StripeAppsAPI`, `SecretStoreSecrets` (Stripe's Apps Secret Store of the account).
public protocol TenantSecretStore: Sendable {
    /// The secret `name` of `tenant`, or `nil` when none was stored.
    func secret(named name: String, for tenant: Tenant) async throws -> String?
    /// Stores or replaces the secret `name` of `tenant`.
    func setSecret(_ value: String, named name: String, for tenant: Tenant) async throws
    /// Deletes the secret `name` of `tenant`, if there is one.
    func deleteSecret(named name: String, for tenant: Tenant) async throws
}
