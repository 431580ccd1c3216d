import ArgumentParser
import StripeAppsServer

/// `migrate`: applies the migrations to `DATABASE_URL` and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations to DATABASE_URL and exit.")

    @Option(help: "A file of KEY=VALUE lines that overrides the environment.")
    var config: String?

    func run() async throws {
        let configuration = try await readConfiguration(configFile: config)
        let applied = try await withConfiguredStorage(configuration) { try await $0.appliedMigrations() }
        for name in applied { print("applied \(name)") }
    }
}
