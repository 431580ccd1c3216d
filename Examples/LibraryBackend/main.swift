// The complete backend of Docs/library.md: what `stripe-apps-backend serve` does, as a program of your own, plus
// your routes and event handlers. This file is compiled with the package and the guide shows it line for line.
// docs:begin library-main
import Configuration
import Hummingbird
import Logging
import StripeApps
import StripeAppsPostgres
import StripeAppsSQLite
import StripeAppsServer
import SystemPackage

// 1. The configuration: the same variables as `serve` (README), from the environment, then `.env`.
let reader = ConfigReader(providers: [
    EnvironmentVariablesProvider(),
    try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true),
])
let configuration = try AppConfiguration(reader: reader)
// Logs on standard error, with anything shaped like a key, token or signature redacted.
LoggingSystem.bootstrap { label in RedactingLogHandler(StreamLogHandler.standardError(label: label)) }
var logger = Logger(label: "my-stripe-app")
logger.logLevel = configuration.logLevel

// 2. Your additions: signed UI routes under /api, and handlers for the events your app subscribes to.
var events = EventHandlers()
events.on("customer.created") { event in
    // Runs from the durable inbox, retried with backoff until it succeeds; the event's tenant says whose.
    event.logger.info("new customer", metadata: ["stripe.account": "\(event.tenant?.accountID ?? "-")"])
}
// docs:begin signed-routes
let hooks = ApplicationHooks(
    configureAPI: { api in
        api.post("invoices/remind") { _, context in
            let tenant = try context.user.tenant()  // (account, mode) from the signed payload
            return Response.json(.object([PayloadField("queued_for", .string(tenant.accountID))]))
        }
        api.group("admin").add(middleware: RequireRolesMiddleware(anyOf: ["Administrator"]))
            .post("reset") { _, context in Response.json(.string(context.user.accountID)) }
    },
    eventHandlers: events
)
// docs:end signed-routes

// 3. The storage DATABASE_URL names, and the application around it, run until SIGTERM or SIGINT.
func run(_ storage: some StorageBackend) async throws {
    try await buildApplication(configuration: configuration, storage: storage, logger: logger, hooks: hooks)
        .runService()
}
let database = try configuration.database()
if let postgres = database.postgres {
    try await run(PostgresStorage(configuration: .init(location: postgres), logger: logger))
} else if let sqlite = database.sqlite {
    try await run(SQLiteStorage(location: sqlite))
}
// docs:end library-main
