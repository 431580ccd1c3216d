import ArgumentParser
import Configuration
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StripeApps
import StripeAppsServer
import Tracing

/// `serve`: runs the backend until SIGTERM or SIGINT, then shuts down gracefully.
///
/// Thin on purpose: it reads the configuration, picks the storage `DATABASE_URL` names and hands both to
/// `buildApplication`, which owns every service, the migrations and every setting.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the backend.",
        discussion: """
            Configured by environment variables (see the README), optionally overridden by --config FILE \
            (KEY=VALUE lines) and by the flags below. With no STRIPE_APP_SECRETS it starts in development mode: \
            127.0.0.1 only, with a local development secret kept in the database.
            """
    )

    @Option(help: "The address to bind (HOST). Ignored in development mode.")
    var host: String?

    @Option(help: "The port to bind (PORT); 0 picks a free port.")
    var port: Int?

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { flags["host"] = .init(.string(host), isSecret: false) }
        if let port { flags["port"] = .init(.string(String(port)), isSecret: false) }
        let reader = try await options.reader(flags: flags)
        let configuration = try ConfigurationOptions.configuration(from: reader)
        bootstrapLogging(
            level: configuration.logLevel, json: configuration.logsAsJSON, traced: configuration.isTracingEnabled)
        // Whatever is still buffered is written when serve returns, after a graceful shutdown or a start-up error.
        defer { LogWriter.standardError.flush() }
        let logger = {
            var logger = Logger(label: "stripe-apps-backend")
            logger.logLevel = configuration.logLevel
            return logger
        }()

        // Start-up checks: the doctor's findings, as log lines.
        for finding in Doctor.diagnose(doctorInput(configuration: configuration, reader: reader))
        where finding.severity != .ok {
            if finding.severity == .problem {
                logger.error("\(finding.message)")
            } else {
                logger.notice("\(finding.message)")
            }
        }
        let isDevelopment = configuration.isDevelopmentMode
        // The database as an absolute location: the relative default would be another file from another folder.
        let database = try configuration.database()
        logger.info(
            "database opened",
            metadata: [
                "database": "\(database.sqlite?.path.map { "sqlite:" + absolutePath($0) } ?? database.description)"
            ])
        let sameConfiguration = options.arguments(for: configuration)
        let publicURL = configuration.publicURL
        let localMarketplace = configuration.usesLocalMarketplace
        let hooks = ApplicationHooks(
            services: tracingServices(configuration),
            onServerRunning: { port in
                if isDevelopment {
                    announceDevelopmentMode(
                        port: port, configurationArguments: sameConfiguration, localMarketplace: localMarketplace,
                        logger: logger)
                    announceLocalNetworkAccess(port: port, publicURL: publicURL)
                }
            })
        switch try SelectedStorage.open(configuration, logger: logger) {
        case .sqlite(let storage):
            try await buildApplication(configuration: configuration, storage: storage, logger: logger, hooks: hooks)
                .runService()
        case .postgres(let storage):
            try await buildApplication(configuration: configuration, storage: storage, logger: logger, hooks: hooks)
                .runService()
        }
    }
}

/// Logs to standard error through one buffered writer, once per process: JSON lines, or swift-log's plain text
/// layout; either way with anything shaped like a key, token or signature redacted, and with `trace_id` and
/// `span_id` when traces are on. Call `LogWriter.standardError.flush()` before exiting.
func bootstrapLogging(level: Logger.Level, json: Bool, traced: Bool = false) {
    LoggingSystem.bootstrap(
        { label, provider in
            if json {
                return RedactingLogHandler(
                    JSONLogHandler(label: label, level: level, writer: .standardError, metadataProvider: provider))
            }
            return RedactingLogHandler(
                TextLogHandler(label: label, level: level, writer: .standardError, metadataProvider: provider))
        }, metadataProvider: traced ? SpanContext.loggingMetadataProvider : nil)
}

/// With traces configured (`OTEL_EXPORTER_OTLP_ENDPOINT`), bootstraps the backend's OTLP tracer for the process and
/// returns its exporter, which the application runs as a service; none otherwise. Only traces are exported: metrics
/// are Prometheus', logs go to standard error.
func tracingServices(_ configuration: AppConfiguration) -> [any Service] {
    OTLPExporter.bootstrap(for: configuration).map { [$0] } ?? []
}

/// Says loudly that this is development mode, and prints one ready-to-paste command per surface (a signed UI call, a
/// signed webhook event, an install through the callback) and, with the local marketplace, the URL that runs the
/// install in a browser. The commands name this server's database by its absolute path (and `--config` by its
/// absolute path), so they read the same development secrets from any folder.
private func announceDevelopmentMode(
    port: Int, configurationArguments: [String], localMarketplace: Bool, logger: Logger
) {
    logger.warning(
        """
        DEVELOPMENT MODE: STRIPE_APP_SECRETS is not set, so UI calls and install redirects are verified with a \
        local development secret kept in the database, and webhook endpoints without a secret get one too. Not \
        for production: Stripe cannot sign with these secrets. Listening on 127.0.0.1 only.
        """
    )
    FileHandle.standardOutput.write(
        Data(
            developmentCommands(
                port: port, configurationArguments: configurationArguments,
                localMarketplace: localMarketplace
            ).utf8))
}

/// The development banner's commands, one per surface (see `announceDevelopmentMode`).
func developmentCommands(port: Int, configurationArguments: [String], localMarketplace: Bool) -> String {
    let executable =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? CommandLine.arguments[0]
    let base = "http://127.0.0.1:\(port)"
    func command(_ arguments: [String], _ options: [String]) -> String {
        ([executable] + arguments + configurationArguments + options).map(shellQuoted).joined(separator: " ")
    }
    var text = """
        Try each surface of this server:
          a signed UI call:
            \(command(["simulate", "ui"], ["--to", base + "/api/whoami", "--account", "acct_dev", "--user", "usr_dev", "--mode", "test"]))
          a signed webhook event (test mode):
            \(command(["simulate", "event"], ["--to", base, "--test", "--type", "account.application.authorized", "--account", "acct_dev"]))
          an install, from /install to the callback:
            \(command(["simulate", "install"], ["--to", base, "--test", "--account", "acct_dev", "--user", "usr_dev"]))

        """
    if localMarketplace {
        text += """
              the same install in a browser, through the local marketplace:
                \(base)/install?mode=test

            """
    }
    return text
}

/// Says what a UI extension in the Dashboard needs to reach this development backend: a public page calling a
/// loopback or private address meets Chrome's Local Network Access prompt (Chrome 142 and later), which the backend
/// cannot answer for the user. Nothing when `PUBLIC_URL` is a public address (a tunnel).
private func announceLocalNetworkAccess(port: Int, publicURL: String?) {
    let apiURL: String
    if let publicURL {
        guard let host = URLComponents(string: publicURL)?.host, LocalNetwork.isLocal(host: host) else { return }
        apiURL = URLComponentEncoding.withoutTrailingSlashes(publicURL) + "/api/"
    } else {
        apiURL = Doctor.localAPIURLs(port: port)[0]
    }
    FileHandle.standardOutput.write(
        Data("From the Stripe Dashboard: \(Doctor.localNetworkAccessAdvice(apiURL: apiURL))\n".utf8))
}

/// `argument` as one word for a POSIX shell: as it is when it holds nothing special, else in single quotes.
func shellQuoted(_ argument: String) -> String {
    let plain = argument.unicodeScalars.allSatisfy {
        CharacterSet.alphanumerics.contains($0) || "-_./:=,@%+".unicodeScalars.contains($0)
    }
    if plain && !argument.isEmpty { return argument }
    return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
