import ArgumentParser
import StripeAppsSQLite
import StripeAppsServer

/// `migrate`: applies the migrations to `DATABASE_URL` and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations to DATABASE_URL and exit.")

    @Option(help: "A file of KEY=VALUE lines that overrides the environment.")
    var config: String?

    func run() async throws {
        let configuration = try await readConfiguration(configFile: config)
        let store = try openStore(configuration)
        try await store.migrate()
        for name in try await store.appliedMigrations() { print("applied \(name)") }
    }
}
