import Foundation
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
            ]
        )
        defer { server.stop() }
        _ = try #require(await server.announcedCommand(), "serve did not start")
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
        process.standardError = FileHandle.nullDevice
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { return continuation.finish() }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                continuation.yield(String(line))
            }
        }
        try process.run()
    }

    /// The command line `serve` prints once it listens; `nil` when it exited first.
    func announcedCommand() async -> String? {
        await lines.first { $0.contains(" simulate ui ") }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
