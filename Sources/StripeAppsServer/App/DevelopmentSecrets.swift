public import StripeApps

/// The app signing secrets to verify UI calls with: the configured ones, or in development mode a local
/// secret generated once and kept in storage, so restarts (and every instance) keep working signatures.
public func appKeyring(configuration: AppConfiguration, metadata: some MetadataStore) async throws -> SigningKeyring {
    if let secrets = configuration.appSecrets { return secrets }
    let secret = try await developmentSecret(in: metadata)
    return try SigningKeyring([SigningSecret(secret, label: "development")])
}

/// The secrets of each webhook endpoint: the configured ones; in development mode, for an endpoint with none, a
/// local secret generated once and kept in storage (as the development app secret), so `simulate event` signs
/// what the endpoint accepts; `nil` for an unconfigured endpoint outside development mode (it answers 503).
public func webhookKeyrings(configuration: AppConfiguration, metadata: some MetadataStore) async throws -> (
    live: SigningKeyring?, test: SigningKeyring?
) {
    func keyring(_ configured: SigningKeyring?, _ mode: Tenant.Mode) async throws -> SigningKeyring? {
        if let configured { return configured }
        guard configuration.isDevelopmentMode else { return nil }
        let secret = try await developmentWebhookSecret(for: mode, in: metadata)
        return try SigningKeyring([SigningSecret(secret, label: "development \(mode)")])
    }
    return (
        try await keyring(configuration.webhookSecretsLive, .live),
        try await keyring(configuration.webhookSecretsTest, .test)
    )
}

/// The metadata key of the development app secret.
public let developmentSecretKey = "development_app_secret"

/// The metadata key of the development secret of the live (`.live`) or test (`.test`) webhook endpoint.
public func developmentWebhookSecretKey(for mode: Tenant.Mode) -> String {
    "development_webhook_secret_\(mode)"
}

/// Reads the development secret, creating it on first use (`absec_dev_` and 32 random bytes in hex).
public func developmentSecret(in metadata: some MetadataStore) async throws -> String {
    try await metadata.value(forKey: developmentSecretKey, insertingIfMissing: "absec_dev_" + randomHex(bytes: 32))
}

/// Reads the development secret of one webhook endpoint, creating it on first use (`whsec_dev_` and 32 random
/// bytes in hex): what signs `simulate event` deliveries to an endpoint that has no configured secret in
/// development mode.
public func developmentWebhookSecret(for mode: Tenant.Mode, in metadata: some MetadataStore) async throws -> String {
    try await metadata.value(
        forKey: developmentWebhookSecretKey(for: mode), insertingIfMissing: "whsec_dev_" + randomHex(bytes: 32))
}

/// `bytes` random bytes from the system's generator, in lower-case hex.
private func randomHex(bytes: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        .map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
