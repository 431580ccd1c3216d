import Configuration
import StripeApps
import StripeAppsSQLite
import StripeAppsServer
import SystemPackage

/// Reads the configuration as `serve` does: CLI flags, then `--config FILE`, then the environment, then `.env`.
func readConfiguration(flags: [AbsoluteConfigKey: ConfigValue] = [:], configFile: String?) async throws
    -> AppConfiguration
{
    var providers: [any ConfigProvider] = [InMemoryProvider(name: "command line", values: flags)]
    if let configFile {
        providers.append(
            try await EnvironmentVariablesProvider(environmentFilePath: FilePath(configFile), allowMissing: false))
    }
    providers.append(EnvironmentVariablesProvider())
    providers.append(try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true))
    return try AppConfiguration(reader: ConfigReader(providers: providers))
}

/// Opens the store `DATABASE_URL` names.
func openStore(_ configuration: AppConfiguration) throws -> SQLiteAppStore {
    guard let location = SQLiteAppStore.Location(databaseURL: configuration.databaseURL) else {
        throw ConfigurationError(
            variable: "DATABASE_URL",
            problem: "must be sqlite:PATH or sqlite::memory: (the scheme given is not supported by this build)"
        )
    }
    return try SQLiteAppStore(
        location: location,
        installationCacheLifetime: .seconds(configuration.installationCacheSeconds)
    )
}
