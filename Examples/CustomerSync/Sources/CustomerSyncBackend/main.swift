// customer-sync-backend: the CustomerSync app as a program. The same configuration as
// `stripe-apps-backend serve` (its README), plus:
//   CRM_BASE_URL       the CRM's API (required)
//   CRM_KEY_STORAGE    `encrypted` (default; needs ENCRYPTION_KEYS) or `stripe_secret_store`
//   SYNC_LEDGER_PATH   the app's own SQLite file (default customer-sync.sqlite)
import Configuration
import CustomerSync
import Foundation
import Hummingbird
import Logging
import StripeApps
import StripeAppsPostgres
import StripeAppsSQLite
import StripeAppsServer
import SystemPackage

let reader = ConfigReader(providers: [
    EnvironmentVariablesProvider(),
    try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true),
])
let configuration = try AppConfiguration(reader: reader)
LoggingSystem.bootstrap { label in RedactingLogHandler(StreamLogHandler.standardError(label: label)) }
let logger = {
    var logger = Logger(label: "customer-sync")
    logger.logLevel = configuration.logLevel
    return logger
}()

guard let crm = reader.string(forKey: "crm.base.url").flatMap(URL.init(string:)) else {
    throw ConfigurationError(variable: "CRM_BASE_URL", problem: "must be set to the CRM's API base URL")
}
guard
    let keyStorage = CustomerSyncApp.KeyStorage(
        rawValue: reader.string(forKey: "crm.key.storage", default: "encrypted"))
else {
    throw ConfigurationError(variable: "CRM_KEY_STORAGE", problem: "must be encrypted or stripe_secret_store")
}
let options = try CustomerSyncApp.Options(crmBaseURL: crm, keyStorage: keyStorage)
let ledger = try SQLiteSyncLedger(path: reader.string(forKey: "sync.ledger.path", default: "customer-sync.sqlite"))

func run(_ storage: some StorageBackend) async throws {
    let hooks = try CustomerSyncApp.hooks(
        configuration: configuration, storage: storage, ledger: ledger, options: options, metrics: AppMetrics(),
        logger: logger)
    try await buildApplication(configuration: configuration, storage: storage, logger: logger, hooks: hooks)
        .runService()
}
let database = try configuration.database()
if let postgres = database.postgres {
    try await run(PostgresStorage(configuration: .init(location: postgres), logger: logger))
} else if let sqlite = database.sqlite {
    try await run(SQLiteStorage(location: sqlite))
}
