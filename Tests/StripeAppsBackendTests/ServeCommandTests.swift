import Foundation
import Testing

/// The executable as a user runs it: `serve` in development mode prints a command that gets a 200.
@Suite struct ServeCommandTests {
    @Test func developmentModePrintsACommandThatGetsA200() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let server = Process()
        server.executableURL = ExternalTool.backend
        server.arguments = ["serve", "--port", "0"]
        server.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        for key in ["STRIPE_APP_SECRETS", "DATABASE_URL", "HOST", "PORT"] { environment[key] = nil }
        server.environment = environment
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        let (lines, continuation) = AsyncStream<String>.makeStream()
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                continuation.finish()
            } else {
                for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                    continuation.yield(String(line))
                }
            }
        }
        try server.run()
        defer {
            if server.isRunning { server.terminate() }
            server.waitUntilExit()
        }
        // The announcement is printed once the server listens; the stream ends if the server dies first.
        let command = try #require(await lines.first { $0.contains(" simulate ui ") }, "serve printed no command")
        let words = command.trimmingCharacters(in: .whitespaces).split(separator: " ").map(String.init)
        #expect(words.first == ExternalTool.backend.resolvingSymlinksInPath().path)
        #expect(command.contains("http://127.0.0.1:"))

        let simulated = try runProcess(
            URL(fileURLWithPath: words[0]), Array(words.dropFirst()), currentDirectory: directory)
        #expect(simulated.status == 0, "\(simulated.standardOutput) \(simulated.standardError)")
        #expect(simulated.standardOutput.hasPrefix("HTTP 200"))
        #expect(simulated.standardOutput.contains(#""account_id":"acct_dev""#))

        // SIGTERM: a graceful exit with status 0.
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("stripe-apps.sqlite").path))
    }

    @Test func simulateInstallPlaysTheMarketplaceAgainstARunningServer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freePort()
        let server = Process()
        server.executableURL = ExternalTool.backend
        server.arguments = ["serve", "--port", "\(port)"]
        server.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["STRIPE_APP_SECRETS"] = nil
        environment["STRIPE_APP_ID"] = "com.example.app"
        environment["PUBLIC_URL"] = "http://127.0.0.1:\(port)"
        environment["STRIPE_INSTALL_LINK"] = "https://marketplace.stripe.com/apps/install/link/test"
        environment["ALLOWED_REDIRECT_URIS"] = "http://127.0.0.1:\(port)/install/callback"
        server.environment = environment
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        let (lines, continuation) = AsyncStream<String>.makeStream()
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { continuation.finish() } else { continuation.yield(String(decoding: data, as: UTF8.self)) }
        }
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        _ = try #require(await lines.first { $0.contains("simulate ui") }, "serve did not start")
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
