import ArgumentParser
import Foundation
import Logging
import StripeApps
import StripeAppsAPI
import StripeAppsServer

/// `events recover --mode live|test`.
struct EventsRecover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Feed events whose webhook delivery failed (Events API, last 30 days) into the inbox.",
        discussion: """
            Lists undelivered events for every active installation of the mode and stores the new ones in the \
            inbox; the running server's worker handles them. The inbox dedupes, so running it twice is safe. \
            Uses STRIPE_SECRET_KEY_LIVE/TEST (platform apps), the stored OAuth tokens (oauth apps) or the stored \
            restricted keys (restricted_api_key apps), per stripe_api_access_type in the manifest.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "live or test.")
    var mode: String

    @Option(name: .customLong("type"), help: "Only events of this type (repeatable).")
    var types: [String] = []

    func run() async throws {
        guard let mode = Tenant.Mode(mode) else {
            FileHandle.standardError.write(Data("invalid_mode: --mode must be live or test\n".utf8))
            throw ExitCode(2)
        }
        let configuration = try await options.read()
        var logger = Logger(label: "stripe-apps.recover")
        logger.logLevel = .warning
        let api = try configuration.stripeAPI(logger: logger)
        let report = try await withConfiguredStorage(configuration) { storage in
            let clients: TenantClients
            switch configuration.manifest?.apiAccessType ?? "platform" {
            case "oauth", "restricted_api_key":
                guard let cipher = configuration.credentialCipher else {
                    FileHandle.standardError.write(
                        Data("missing_encryption_keys: ENCRYPTION_KEYS must be set to read stored credentials\n".utf8)
                    )
                    throw ExitCode(1)
                }
                let credentials = TenantCredentials(store: storage.credentials, cipher: cipher)
                clients =
                    configuration.manifest?.apiAccessType == "oauth"
                    ? .oauth(OAuthTokens(api: api, credentials: credentials)) : .restrictedKeys(api, credentials)
            default:
                guard api.hasSecretKey(for: mode) else {
                    FileHandle.standardError.write(
                        Data("missing_credential: STRIPE_SECRET_KEY_\(mode.description.uppercased()) is not set\n".utf8)
                    )
                    throw ExitCode(1)
                }
                clients = .platform(api)
            }
            return try await MissedEventRecovery(
                installations: storage.installations, inbox: storage.inbox, clients: clients
            ).run(mode: mode, types: types)
        }
        print(
            "\(mode): \(report.installations) installations, \(report.listed) undelivered events listed, "
                + "\(report.enqueued) new in the inbox, \(report.alreadyInInbox) already there, \(report.skipped) skipped"
        )
        for failure in report.failures {
            FileHandle.standardError.write(Data("\(failure.tenant): \(failure.reason)\n".utf8))
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
