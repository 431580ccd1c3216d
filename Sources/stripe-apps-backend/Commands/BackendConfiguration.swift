import Configuration
import Foundation
import StripeApps
import StripeAppsSQLite
import StripeAppsServer
import SystemPackage

/// The configuration sources `serve` uses: CLI flags, then `--config FILE`, then the environment, then `.env`.
func configurationReader(flags: [AbsoluteConfigKey: ConfigValue] = [:], configFile: String?) async throws
    -> ConfigReader
{
    var providers: [any ConfigProvider] = [InMemoryProvider(name: "command line", values: flags)]
    if let configFile {
        providers.append(
            try await EnvironmentVariablesProvider(environmentFilePath: FilePath(configFile), allowMissing: false)
        )
    }
    providers.append(EnvironmentVariablesProvider())
    providers.append(try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true))
    return ConfigReader(providers: providers)
}

/// Reads the configuration, and the manifest when its file exists.
func readConfiguration(flags: [AbsoluteConfigKey: ConfigValue] = [:], configFile: String?) async throws
    -> AppConfiguration
{
    let reader = try await configurationReader(flags: flags, configFile: configFile)
    var configuration = try AppConfiguration(reader: reader)
    if FileManager.default.fileExists(atPath: configuration.install.manifestPath) {
        configuration.manifest = try AppManifest.load(path: configuration.install.manifestPath)
    }
    return configuration
}
