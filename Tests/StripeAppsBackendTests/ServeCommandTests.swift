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

        let simulated = try runProcess(
            URL(fileURLWithPath: words[0]), Array(words.dropFirst()), currentDirectory: directory)
        #expect(simulated.status == 0, "\(simulated.standardOutput) \(simulated.standardError)")
        #expect(simulated.standardOutput.hasPrefix("HTTP 200"))
        #expect(simulated.standardOutput.contains(#""account_id":"acct_dev""#))

        // SIGTERM: a graceful exit with status 0.
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("stripe-apps.sqlite").path))
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
        #expect(await processed("evt_cli_1"))
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

    @Test func migrateAppliesEveryMigrationAndIsRepeatable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString).sqlite")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for _ in 0..<2 {
            let result = try runProcess(
                ExternalTool.backend, ["migrate"], environment: ["DATABASE_URL": "sqlite:\(path)"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("applied 0001_create_metadata_installations_settings"))
        }
        let bad = try runProcess(ExternalTool.backend, ["migrate"], environment: ["DATABASE_URL": "mysql://x"])
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
    init(arguments: [String], directory: URL, environment: [String: String]) throws {
        process.executableURL = ExternalTool.backend
        process.arguments = ["serve"] + arguments
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
