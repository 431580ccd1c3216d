import ArgumentParser
import Configuration
import Foundation
import StripeApps
import StripeAppsSQLite
import StripeAppsServer
import SystemPackage

/// The configuration options every command that reads the configuration takes, so that all of them see the same
/// settings from the same sources, in one order: the command's own flags (and `--database-url`), then
/// `--config FILE`, then the environment, then `.env` in the working folder.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "A file of KEY=VALUE lines (as .env) that overrides the environment.")
    var config: String?

    @Option(
        name: .customLong("database-url"),
        help: "The database (DATABASE_URL), overriding --config and the environment: sqlite:PATH or postgres://….")
    var databaseURL: String?

    /// The sources, `flags` first.
    func reader(flags: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> ConfigReader {
        var flags = flags
        if let databaseURL { flags["database.url"] = .init(.string(databaseURL), isSecret: true) }
        var providers: [any ConfigProvider] = [InMemoryProvider(name: "command line", values: flags)]
        if let config {
            guard FileManager.default.fileExists(atPath: config) else {
                throw CommandError(
                    "config_not_found", "--config names \(absolutePath(config)), which does not exist.", exitCode: 2)
            }
            providers.append(
                try await EnvironmentVariablesProvider(environmentFilePath: FilePath(config), allowMissing: false))
        }
        providers.append(EnvironmentVariablesProvider())
        providers.append(try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true))
        return ConfigReader(providers: providers)
    }

    /// The configuration, and the manifest when its file exists.
    func read(flags: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> AppConfiguration {
        try await Self.configuration(from: reader(flags: flags))
    }

    /// The configuration `reader` gives, and the manifest when its file exists.
    static func configuration(from reader: ConfigReader) throws -> AppConfiguration {
        var configuration = try AppConfiguration(reader: reader)
        if FileManager.default.fileExists(atPath: configuration.install.manifestPath) {
            configuration.manifest = try AppManifest.load(path: configuration.install.manifestPath)
        }
        return configuration
    }

    /// The options that make another command, run from any folder, read what this one read: the absolute
    /// `--config` and, for an SQLite file, its absolute `--database-url`.
    func arguments(for configuration: AppConfiguration) -> [String] {
        var arguments: [String] = []
        if let config { arguments += ["--config", absolutePath(config)] }
        if let location = try? configuration.database().sqlite, let path = location.path {
            arguments += ["--database-url", "sqlite:" + absolutePath(path)]
        }
        return arguments
    }
}

/// `path` made absolute against the working folder (unchanged when it already is).
func absolutePath(_ path: String) -> String {
    guard !path.hasPrefix("/") else { return path }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        .standardizedFileURL.path
}

/// A command's failure with a stable code: printed as `<code>: <message>` on standard error, then the exit code
/// (1 when something failed, 2 when the command was used wrongly).
struct CommandError: Error, CustomStringConvertible {
    let code: String
    let message: String
    let exitCode: Int32

    init(_ code: String, _ message: String, exitCode: Int32 = 1) {
        self.code = code
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { "\(code): \(message)" }
}
