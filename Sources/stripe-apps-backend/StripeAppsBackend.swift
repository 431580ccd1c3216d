import ArgumentParser

/// The `stripe-apps-backend` command: a thin layer over the libraries.
@main
struct StripeAppsBackend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stripe-apps-backend",
        abstract: "A self-hosted backend and toolkit for Stripe Apps.",
        subcommands: [
            Serve.self, Migrate.self, Sign.self, Verify.self, Simulate.self, Links.self, DoctorCommand.self,
            Installations.self, Events.self, Jobs.self, Credentials.self,
        ],
        defaultSubcommand: Serve.self
    )
}
