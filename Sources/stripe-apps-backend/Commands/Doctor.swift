import ArgumentParser
import Configuration
import Foundation
import StripeApps
import StripeAppsServer

/// `doctor`: checks the configuration and the manifest, in plain words.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the configuration and stripe-app.json; exit 1 when something will fail."
    )

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let reader = try await options.reader()
        let configuration = try ConfigurationOptions.configuration(from: reader)
        let findings = Doctor.diagnose(doctorInput(configuration: configuration, reader: reader))
        for finding in findings.sorted(by: { $0.severity > $1.severity }) { print(finding) }
        print(Doctor.summary(of: findings))
        if findings.contains(where: { $0.severity == .problem }) { throw ExitCode(1) }
    }
}

/// The doctor's input from the configuration, raw secret values included (they are inspected, never printed).
func doctorInput(configuration: AppConfiguration, reader: ConfigReader) -> Doctor.Input {
    var input = Doctor.Input(
        manifest: configuration.manifest,
        manifestPath: configuration.install.manifestPath,
        appID: configuration.appID,
        publicURL: configuration.publicURL,
        redirectURI: configuration.install.redirectURI
            ?? (configuration.isDevelopmentMode ? "http://127.0.0.1:\(configuration.port)/install/callback" : nil),
        configuredRedirectURIs: configuration.install.configuredRedirectURIs,
        installLink: configuration.install.installLink,
        appSecrets: reader.string(forKey: "stripe.app.secrets", isSecret: true),
        webhookSecretsLive: reader.string(forKey: "stripe.webhook.secrets.live", isSecret: true),
        webhookSecretsTest: reader.string(forKey: "stripe.webhook.secrets.test", isSecret: true),
        hasSecretKey: reader.string(forKey: "stripe.secret.key.live", isSecret: true) != nil
            || reader.string(forKey: "stripe.secret.key.test", isSecret: true) != nil,
        acceptsLegacyInstallHMAC: configuration.install.acceptsLegacySignatures
    )
    input.hasAppServerToken = configuration.appServerToken != nil
    input.installConfirmURL = configuration.install.confirmURL
    input.adminTokenLength = configuration.admin.token?.count
    input.readOnlyAdminTokenLength = configuration.admin.readOnlyToken?.count
    input.hasMetricsToken = configuration.metricsToken != nil
    input.hasEncryptionKeys = configuration.credentialCipher != nil
    input.isDevelopmentMode = configuration.isDevelopmentMode
    input.port = configuration.port
    return input
}
