import ArgumentParser
import Foundation
import StripeAppsServer

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

    /// Parses and runs the command. ArgumentParser's own `main` would answer an error thrown by a subcommand's
    /// `run` with the root command's usage; here a usage error gets the usage of the command that was run, and
    /// a ``CommandError`` its stable code and exit code.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            var command = command
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as CommandError {
            fflush(nil)  // every C stream: standard output is the one with anything buffered
            LogWriter.standardError.flush()
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch let error as ValidationError {
            fflush(nil)  // every C stream: standard output is the one with anything buffered
            LogWriter.standardError.flush()
            let usage = usageString(for: type(of: command))
            FileHandle.standardError.write(
                Data(
                    "Error: \(error.message)\nUsage: \(usage)\n  See '\(usage.prefix { $0 != "[" && $0 != "<" }.trimmingCharacters(in: .whitespaces)) --help' for more information.\n"
                        .utf8))
            // EX_USAGE, as ArgumentParser answers a usage error it finds itself.
            Foundation.exit(64)
        } catch {
            fflush(nil)  // every C stream: standard output is the one with anything buffered
            LogWriter.standardError.flush()
            exit(withError: error)
        }
    }
}
