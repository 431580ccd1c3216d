public import Foundation
public import Logging
import NIOHTTP1
public import StripeApps
import StripeAppsAPI
public import StripeAppsServer

/// A Stripe App backend that keeps a third-party CRM in step with each merchant's Stripe customers.
///
/// The merchant installs the app through an install link, lands on its onboarding view (the deep link), and an
/// administrator pastes the CRM's API key; from then on every `customer.*` event updates the CRM, a full sync
/// runs every night per installation and whenever someone asks for one, and an uninstall deletes what the app
/// kept. ``hooks(configuration:storage:ledger:options:metrics:now:logger:)`` turns the ready-made backend into
/// this app; `customer-sync-backend` runs it.
public enum CustomerSyncApp {
    /// Where the merchant's CRM key is kept.
    public enum KeyStorage: String, Sendable {
        /// Sealed with `ENCRYPTION_KEYS` in the backend's own storage (`TenantCredentials`), deleted with the
        /// tenant's data on uninstall.
        case encrypted
        /// In Stripe's Apps Secret Store of the merchant's account (`SecretStoreSecrets`), where the UI extension
        /// can read it too; it cannot be deleted after an uninstall.
        case stripeSecretStore = "stripe_secret_store"
    }

    /// The app's settings.
    public struct Options: Sendable {
        /// The CRM's API base URL.
        public var crmBaseURL: URL
        /// Where the CRM key is kept.
        public var keyStorage: KeyStorage
        /// When the nightly full sync runs (per installation).
        public var nightly: JobSchedule

        /// Creates the settings; the nightly sync runs at 02:00 UTC unless `nightly` says otherwise.
        public init(crmBaseURL: URL, keyStorage: KeyStorage = .encrypted, nightly: JobSchedule? = nil) throws {
            self.crmBaseURL = crmBaseURL
            self.keyStorage = keyStorage
            self.nightly = try nightly ?? .daily(hour: 2, minute: 0, timeZone: "UTC")
        }
    }

    /// What the routes, handlers and jobs share.
    struct Parts: Sendable {
        let syncer: CustomerSyncer
        let secrets: any TenantSecretStore
        let jobs: JobWorker
        /// The CRM's status for a candidate key (`GET /v1/me` with it).
        let checkKey: @Sendable (String, Tenant) async throws -> UInt
    }

    /// The hooks that make the backend this app: its signed routes, its event handlers, its install hook and
    /// uninstall purge, its jobs on a job worker the application runs, and its metrics.
    ///
    /// - Parameters:
    ///   - configuration: The backend's configuration (its Stripe access reaches the tenants' customers; with
    ///     ``KeyStorage/encrypted`` it needs `ENCRYPTION_KEYS`).
    ///   - storage: The backend's storage.
    ///   - ledger: The app's own records.
    ///   - metrics: The backend's metrics; the app adds its own to the same registry.
    ///   - now: The clock (a test's fake clock).
    /// - Throws: When the configuration cannot keep the CRM key where `options` says.
    public static func hooks<Storage: StorageBackend>(
        configuration: AppConfiguration,
        storage: Storage,
        ledger: any SyncLedger,
        options: Options,
        metrics: AppMetrics,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) throws -> ApplicationHooks {
        let access = TenantAccess(configuration: configuration, credentials: storage.credentials)
        let secrets: any TenantSecretStore
        switch options.keyStorage {
        case .encrypted:
            guard let credentials = access.credentials else {
                throw ConfigurationError(variable: "ENCRYPTION_KEYS", problem: "is needed to keep CRM keys sealed")
            }
            secrets = credentials
        case .stripeSecretStore:
            guard let clients = access.clients else {
                throw ConfigurationError(
                    variable: "STRIPE_SECRET_KEY_LIVE", problem: "or _TEST is needed to reach Stripe's Secret Store")
            }
            secrets = SecretStoreSecrets { tenant in try await clients.client(for: tenant) }
        }
        let syncer = CustomerSyncer(
            crm: CRMClient(baseURL: options.crmBaseURL, secrets: secrets), ledger: ledger,
            metrics: SyncMetrics(registry: metrics.registry), now: now)
        var registry = JobRegistry()
        try registerFullSync(in: &registry, syncer: syncer, options: options)
        let jobs = jobWorker(
            configuration: configuration, storage: storage, registry: registry, now: now, logger: logger)
        let crmURL = options.crmBaseURL.absoluteString
        let parts = Parts(
            syncer: syncer, secrets: secrets, jobs: jobs,
            checkKey: { key, tenant in
                let check = ExternalAPIClient(
                    baseURL: crmURL, credentialName: CRMClient.credentialName, secrets: CandidateKey(key: key))
                return try await check.send(.GET, "/v1/me", for: tenant).status.code
            })
        return ApplicationHooks(
            now: now,
            configureAPI: routes(parts),
            // Runs from the inbox after the install callback (retried until it succeeds, so it is idempotent).
            onInstall: { completion in
                try await ledger.recordInstall(by: completion.userID, at: now(), for: completion.tenant)
            },
            eventHandlers: customerHandlers(syncer),
            lifecycle: InstallLifecycle(purge: { tenant, context in
                let deleted = try await ledger.purge(tenant)
                context.logger.info("sync records purged", metadata: ["customer_sync.records": "\(deleted)"])
            }),
            jobWorker: jobs,
            metrics: metrics
        )
    }
}

/// One key, before it is stored: what `POST /api/crm/connection` checks with the CRM.
private struct CandidateKey: TenantSecretStore {
    let key: String

    func secret(named name: String, for tenant: Tenant) async throws -> String? { key }
    func setSecret(_ value: String, named name: String, for tenant: Tenant) async throws {}
    func deleteSecret(named name: String, for tenant: Tenant) async throws {}
}
