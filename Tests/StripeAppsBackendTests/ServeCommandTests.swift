import Foundation
import StripeApps
import StripeAppsServer
import Testing

/// The executable as a user runs it: `serve` in development mode prints a command that gets a 200.
@Suite struct ServeCommandTests {
    @Test func developmentModePrintsACommandThatGetsA200() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let server = try ServeProcess(arguments: ["--port", "0"], directory: directory, environment: [:])
        defer { server.stop() }
        // The announcement is printed once the server listens; the stream ends if the server dies first.
        let command = try #require(await server.announcedCommand(), "serve printed no command")
        let words = command.trimmingCharacters(in: .whitespaces).split(separator: " ").map(String.init)
        #expect(words.first == ExternalTool.backend.resolvingSymlinksInPath().path)
        #expect(command.contains("http://127.0.0.1:"))
        // What the Dashboard needs to reach it: Chrome's Local Network Access prompt, and how to get past it.
        let port = try #require(command.split(separator: "http://127.0.0.1:").last?.prefix { $0.isNumber })
        let advice = try #require(await server.lines.first { $0.hasPrefix("From the Stripe Dashboard:") })
        #expect(advice.contains("ask before it calls http://localhost:\(port)/api/"), "\(advice)")
        for step in ["Allow the prompt", "connect-src", "public HTTPS tunnel"] {
            #expect(advice.contains(step), "\(advice)")
        }

        // The command names the server's database by its absolute path: it works from any folder, and reads the
        // development secret there instead of making a new database (and a new secret) where it runs.
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("elsewhere-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let database = directory.appendingPathComponent("stripe-apps.sqlite").resolvingSymlinksInPath().path
        #expect(command.contains("--database-url sqlite:/"), "\(command)")
        for folder in [directory, elsewhere] {
            let simulated = try await runProcessAsync(
                URL(fileURLWithPath: words[0]), Array(words.dropFirst()), currentDirectory: folder)
            #expect(simulated.status == 0, "\(simulated.standardOutput) \(simulated.standardError)")
            #expect(simulated.standardOutput.hasPrefix("HTTP 200"))
            #expect(simulated.standardOutput.contains(#""account_id":"acct_dev""#))
            #expect(simulated.standardError.contains("signing with the development secret in sqlite:"))
            #expect(simulated.standardError.contains("(development sha256:"))
            #expect(!simulated.standardError.contains("absec_"), "never the secret itself")
        }
        #expect(!FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("stripe-apps.sqlite").path))
        let opened = await server.logLines.first { $0.contains("database opened") }
        #expect(opened?.contains(database) == true, "serve logs the absolute path: \(opened ?? "-")")

        // SIGTERM: a graceful exit with status 0.
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("stripe-apps.sqlite").path))
    }

    /// A command that reads storage never creates a database: from a folder without one it fails, naming the
    /// absolute path it looked at, and leaves no file behind. `--config` and `--database-url` point it elsewhere.
    @Test func readingCommandsNeverCreateADatabaseAndTakeTheSameConfiguration() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)")
        let server = FileManager.default.temporaryDirectory.appendingPathComponent("server-\(UUID().uuidString)")
        for folder in [empty, server] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        defer { for folder in [empty, server] { try? FileManager.default.removeItem(at: folder) } }
        let missing = empty.resolvingSymlinksInPath().appendingPathComponent("stripe-apps.sqlite").path
        for arguments in [
            ["installations", "list"], ["events", "list"], ["jobs", "list"],
            ["simulate", "ui", "--to", "http://127.0.0.1:9/api/whoami"],
        ] {
            let result = try await runProcessAsync(ExternalTool.backend, arguments, currentDirectory: empty)
            #expect(result.status == 1, "\(arguments)")
            #expect(
                result.standardError.contains("database_not_found: there is no database at \(missing)"),
                "\(arguments): \(result.standardError)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty, "nothing created")

        // A database made by migrate in another folder, named by --config or by --database-url.
        let database = server.appendingPathComponent("app.sqlite").path
        let migrated = try await runProcessAsync(
            ExternalTool.backend, ["migrate", "--database-url", "sqlite:\(database)"], currentDirectory: empty)
        #expect(migrated.status == 0, "\(migrated.standardError)")
        let config = server.appendingPathComponent("backend.env")
        try "DATABASE_URL=sqlite:\(database)\n".write(to: config, atomically: true, encoding: .utf8)
        for options in [["--config", config.path], ["--database-url", "sqlite:\(database)"]] {
            let listed = try await runProcessAsync(
                ExternalTool.backend, ["installations", "list"] + options, currentDirectory: empty)
            #expect(listed.status == 0, "\(options): \(listed.standardError)")
            #expect(listed.standardOutput.hasPrefix("ACCOUNT\tMODE\tSTATUS"))
        }
        // The migrated database has no development secret (no serve ran on it): simulate refuses, never makes one.
        let unsigned = try await runProcessAsync(
            ExternalTool.backend, ["simulate", "ui", "--to", "http://127.0.0.1:9/api/whoami", "--config", config.path],
            currentDirectory: empty)
        #expect(unsigned.status == 1)
        #expect(
            unsigned.standardError.contains("no_signing_secret: STRIPE_APP_SECRETS is not set"),
            "\(unsigned.standardError)")
        let noConfig = try await runProcessAsync(
            ExternalTool.backend, ["events", "list", "--config", "nowhere.env"], currentDirectory: empty)
        #expect(noConfig.status == 2)
        #expect(noConfig.standardError.contains("config_not_found: --config names "), "\(noConfig.standardError)")
        // Nothing listening: the failure in plain words, with where it tried.
        let port = try freePort()
        let refused = try await runProcessAsync(
            ExternalTool.backend, ["simulate", "event", "--to", "http://127.0.0.1:\(port)", "--secret", "whsec_x"],
            currentDirectory: empty)
        #expect(refused.status == 1)
        #expect(
            refused.standardError.contains(
                "connection_failed: cannot connect to 127.0.0.1:\(port): connection refused"),
            "\(refused.standardError)")
        // A usage error shows the usage of the command that was run, not the root's.
        let misused = try await runProcessAsync(
            ExternalTool.backend, ["jobs", "run", "sync", "--mode", "test", "--database-url", "sqlite:\(database)"],
            currentDirectory: empty)
        #expect(misused.status != 0)
        #expect(misused.standardError.contains("--mode goes with --account."))
        #expect(misused.standardError.contains("Usage: stripe-apps-backend jobs run"), "\(misused.standardError)")
    }

    @Test func anUnknownDatabaseSchemeIsAClearStartUpError() async throws {
        for (url, expected) in [
            ("mysql://app:hunter2@db/app", "DATABASE_URL has the scheme \"mysql\""),
            ("postgres://app:hunter2@db", "DATABASE_URL names no database"),
        ] {
            let result = try await runProcessAsync(
                ExternalTool.backend, ["serve", "--port", "0"], environment: ["DATABASE_URL": url])
            #expect(result.status != 0)
            #expect(result.standardError.contains(expected), "\(result.standardError)")
            #expect(!(result.standardOutput + result.standardError).contains("hunter2"))
        }
    }

    /// Outside development mode an in-memory database would answer webhooks 2xx and lose them on restart:
    /// `serve` refuses to start, saying why; in development mode it is allowed.
    @Test func anInMemoryDatabaseOutsideDevelopmentModeIsRefused() async throws {
        let result = try await runProcessAsync(
            ExternalTool.backend, ["serve", "--port", "0"],
            environment: ["DATABASE_URL": "sqlite::memory:", "STRIPE_APP_SECRETS": "absec_refused_secret"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("DATABASE_URL is sqlite::memory:"), "\(result.standardError)")
        #expect(!(result.standardOutput + result.standardError).contains("absec_refused_secret"))
        var configuration = AppConfiguration(databaseURL: "sqlite::memory:")
        #expect(configuration.isDevelopmentMode)
        #expect(try configuration.database().sqlite?.path == nil)
        configuration.appSecrets = try SigningKeyring(secrets: ["absec_x"])
        #expect(throws: ConfigurationError.self) { try configuration.database() }
    }

    static let appServerToken = "cli-app-server-token-" + String(repeating: "7", count: 24)

    @Test func simulateInstallPlaysTheMarketplaceAgainstARunningServer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freePort()
        let server = try ServeProcess(
            arguments: ["--port", "\(port)"],
            directory: directory,
            environment: [
                "STRIPE_APP_ID": "com.example.app", "PUBLIC_URL": "http://127.0.0.1:\(port)",
                "STRIPE_INSTALL_LINK": "https://marketplace.stripe.com/apps/install/link/test",
                "ALLOWED_REDIRECT_URIS": "http://127.0.0.1:\(port)/install/callback",
                "APP_SERVER_TOKEN": Self.appServerToken, "INSTALL_CONFIRM_URL": "https://app.example.com/linked",
            ]
        )
        defer { server.stop() }
        _ = try #require(await server.announcedCommand(), "serve did not start")
        // The app's server asks for a ticket, the install returns with a link code, the same user redeems it.
        let linked = try await runProcessAsync(
            ExternalTool.backend,
            [
                "simulate", "install", "--to", "http://127.0.0.1:\(port)", "--app-user", "user-42", "--account",
                "acct_linked", "--app-server-token", Self.appServerToken,
            ],
            currentDirectory: directory)
        #expect(linked.status == 0, "\(linked.standardOutput)")
        #expect(linked.standardOutput.contains("POST /install/tickets -> 201"))
        #expect(linked.standardOutput.contains("-> 302 https://app.example.com/linked?link_code="))
        #expect(
            linked.standardOutput.contains(
                #"POST /install/links -> 200 {"account_id":"acct_linked","livemode":true,"user_id":"usr_simulated","app_user":"user-42","installed":true}"#
            ))
        #expect(!linked.standardOutput.contains(Self.appServerToken))
        let wrongToken = try await runProcessAsync(
            ExternalTool.backend,
            [
                "simulate", "install", "--to", "http://127.0.0.1:\(port)", "--app-user", "user-42",
                "--app-server-token", "not-the-token",
            ],
            currentDirectory: directory)
        #expect(wrongToken.status != 0)
        #expect(wrongToken.standardOutput.contains("POST /install/tickets -> 401"))
        let installed = try await runProcessAsync(
            ExternalTool.backend, ["simulate", "install", "--to", "http://127.0.0.1:\(port)", "--test"],
            currentDirectory: directory)
        #expect(installed.status == 0, "\(installed.standardOutput)")
        #expect(
            installed.standardOutput.contains(
                "-> 302 https://dashboard.stripe.com/acct_simulated/test/dashboard?apps[com.example.app][drawer]=onboarding"
            ))
        let cancelled = try await runProcessAsync(
            ExternalTool.backend, ["simulate", "install", "--to", "http://127.0.0.1:\(port)", "--cancel"],
            currentDirectory: directory)
        #expect(cancelled.status == 0)
        #expect(cancelled.standardOutput.contains("-> 400 install_cancelled"))
    }

    @Test func simulatedAppEventsInstallAndUninstallThroughTheRunningServer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freePort()
        let environment = [
            "STRIPE_WEBHOOK_SECRETS_TEST": "whsec_cli_test", "STRIPE_WEBHOOK_SECRETS_LIVE": "whsec_cli_live",
        ]
        let server = try ServeProcess(arguments: ["--port", "\(port)"], directory: directory, environment: environment)
        defer { server.stop() }
        _ = try #require(await server.announcedCommand(), "serve did not start")
        var logs = server.logLines.makeAsyncIterator()
        func run(_ arguments: [String]) async throws -> ProcessOutput {
            try await runProcessAsync(
                ExternalTool.backend, arguments, environment: environment, currentDirectory: directory)
        }
        /// Waits for the worker's log line about `eventID`.
        func processed(_ eventID: String) async -> Bool {
            while let line = await logs.next() {
                if line.contains("event processed"), line.contains(eventID) { return true }
            }
            return false
        }
        let base = "http://127.0.0.1:\(port)"
        let installed = try await run([
            "simulate", "event", "--to", base, "--test", "--account", "acct_cli", "--id", "evt_cli_1",
        ])
        #expect(installed.status == 0, "\(installed.standardOutput)")
        #expect(installed.standardError.contains("signing with STRIPE_WEBHOOK_SECRETS_TEST (#0 sha256:"))
        #expect(await processed("evt_cli_1"))
        // An event type names its object's fixture: customer.subscription.created carries a subscription.
        for (type, object) in [
            ("customer.subscription.created", "subscription"), ("issuing_card.created", "issuing.card"),
            ("invoice.paid", "invoice"),
        ] {
            let sent = try await run([
                "simulate", "event", "--to", base, "--test", "--account", "acct_cli", "--id", "evt_\(object)", "--type",
                type,
            ])
            #expect(sent.status == 0, "\(type): \(sent.standardOutput) \(sent.standardError)")
            let stored = try await run(["events", "list", "--format", "json"])
            #expect(stored.standardOutput.contains("evt_\(object)"), "\(type)")
        }
        let unknown = try await run(["simulate", "event", "--to", base, "--test", "--type", "nothing.happened"])
        #expect(unknown.status != 0)
        #expect(
            unknown.standardError.contains("No fixture for nothing.happened (tried nothing)"),
            "\(unknown.standardError)")
        let listed = try await run(["installations", "list", "--format", "json"])
        #expect(listed.standardOutput.contains(#""account_id":"acct_cli","mode":"test","status":"active""#))

        let removed = try await run([
            "simulate", "event", "--to", base, "--test", "--account", "acct_cli", "--id", "evt_cli_2", "--type",
            "account.application.deauthorized",
        ])
        #expect(removed.status == 0)
        #expect(await processed("evt_cli_2"))
        #expect(
            try await run(["installations", "list", "--format", "json"]).standardOutput.contains(
                #""status":"inactive""#))
        let events = try await run(["events", "list", "--status", "succeeded", "--format", "json"])
        #expect(events.standardOutput.contains("evt_cli_1") && events.standardOutput.contains("evt_cli_2"))
        // The uninstall purged the payloads of the tenant's finished events: evt_cli_1 is listed, not replayable.
        let pruned = try await run(["events", "replay", "evt_cli_1"])
        #expect(pruned.status == 1)
        #expect(pruned.standardError.contains("pruned"), "\(pruned.standardError)")
        let replay = try await run(["events", "replay", "evt_cli_2"])
        #expect(replay.status == 0, "\(replay.standardError)")
        #expect(try await run(["events", "replay", "evt_missing"]).status == 1)
    }

    @Test func migrateAppliesEveryMigrationAndIsRepeatable() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString).sqlite")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try await runProcessAsync(
            ExternalTool.backend, ["migrate"], environment: ["DATABASE_URL": "sqlite:\(path)"])
        #expect(first.status == 0, "\(first.standardError)")
        let applied = first.standardOutput.split(separator: "\n").filter { $0.hasPrefix("applied ") }
        #expect(applied.first == "applied 0001_create_metadata_installations_settings")
        #expect(applied.count > 10, "every migration, in order")
        // Run again, nothing is pending: it says so instead of listing every migration again.
        let second = try await runProcessAsync(
            ExternalTool.backend, ["migrate"], environment: ["DATABASE_URL": "sqlite:\(path)"])
        #expect(second.status == 0, "\(second.standardError)")
        #expect(second.standardOutput.hasPrefix("up to date: \(applied.count) migrations applied, the last "))
        #expect(!second.standardOutput.contains("applied 0001"))
        let bad = try await runProcessAsync(
            ExternalTool.backend, ["migrate"], environment: ["DATABASE_URL": "mysql://x"])
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("DATABASE_URL"))
    }
}

/// A `serve` process in its own directory, with its standard output as lines.
struct ServeProcess {
    let process = Process()
    let lines: AsyncStream<String>
    /// Standard error, where the JSON log lines go.
    let logLines: AsyncStream<String>
    /// Kills the server if a test leaves it running for five minutes, which ends both streams: a test that waits
    /// for a line that never comes then fails instead of holding the run.
    private let deadline: ProcessDeadline

    /// Starts `serve` with the environment less the app's variables, plus `environment`.
    init(
        executable: URL = ExternalTool.backend, command: [String] = ["serve"], arguments: [String], directory: URL,
        environment: [String: String]
    ) throws {
        process.executableURL = executable
        process.arguments = command + arguments
        process.currentDirectoryURL = directory
        var merged = ProcessInfo.processInfo.environment
        for key in ["STRIPE_APP_SECRETS", "DATABASE_URL", "HOST", "PORT"] { merged[key] = nil }
        process.environment = merged.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        lines = Self.lines(of: output)
        logLines = Self.lines(of: errors)
        try process.run()
        deadline = ProcessDeadline(process, after: .seconds(300))
    }

    private static func lines(of pipe: Pipe) -> AsyncStream<String> {
        let (lines, continuation) = AsyncStream<String>.makeStream()
        let buffer = LineBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { return continuation.finish() }
            for line in buffer.append(data) { continuation.yield(line) }
        }
        return lines
    }

    /// The command line `serve` prints once it listens; `nil` when it exited first.
    func announcedCommand() async -> String? {
        await lines.first { $0.contains(" simulate ui ") }
    }

    /// Returns once the server logged that it listens (after its migrations); fails when it exited first.
    func waitUntilReady(port: Int) async throws {
        let line = await logLines.first { $0.contains("Server started and listening") }
        try #require(line != nil, "serve exited before listening on \(port)")
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        _ = deadline.end()
    }
}

/// Splits a byte stream into whole lines, keeping a partial last line for the next chunk.
final class LineBuffer: @unchecked Sendable {
    // Only the pipe's readability handler, which FileHandle calls serially, touches `pending`.
    private var pending = Data()

    func append(_ data: Data) -> [String] {
        pending.append(data)
        var lines: [String] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
            pending.removeSubrange(pending.startIndex...newline)
        }
        return lines
    }
}
