import Foundation
import Synchronization
import Testing

/// `CI=true`: tests that need an outside component must run and fail when it is missing.
let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A running `localstripe` (PyPI): an independent fake of part of the Stripe API, to check our wire format
/// against code we did not write.
final class LocalStripe {
    let baseURL: String
    private let process: Process

    /// `STRIPE_APPS_LOCALSTRIPE`, else `.venv/bin/localstripe` in the package.
    static var executable: URL? {
        let configured = ProcessInfo.processInfo.environment["STRIPE_APPS_LOCALSTRIPE"]
        let candidate = configured.map(URL.init(fileURLWithPath:)) ?? packageRoot.appendingPathComponent(".venv/bin/localstripe")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    static let missing =
        "localstripe is missing: run scripts/test.sh (it installs Tests/CrossCheck/requirements.txt into .venv) or set STRIPE_APPS_LOCALSTRIPE"

    /// Starts localstripe on a free port and returns once it says it is serving (it prints "Running on").
    static func start(_ executable: URL) async throws -> LocalStripe {
        for _ in 0..<5 {
            let port = Int.random(in: 20_000..<40_000)
            if let server = try await start(executable, port: port) { return server }
        }
        throw LocalStripeError(message: "localstripe did not start on any of 5 ports")
    }

    private static func start(_ executable: URL, port: Int) async throws -> LocalStripe? {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--port", String(port), "--from-scratch"]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let seen = Mutex("")
        let started: Bool = try await withCheckedThrowingContinuation { continuation in
            let resumed = Mutex(false)
            func finish(_ value: Bool) {
                let first = resumed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            output.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty {
                    handle.readabilityHandler = nil
                    finish(false)
                    return
                }
                let text = seen.withLock { text in
                    text += String(decoding: data, as: UTF8.self)
                    return text
                }
                if text.contains("Running on") { finish(true) }
                if text.contains("address already in use") || text.contains("Errno") { finish(false) }
            }
            process.terminationHandler = { _ in finish(false) }
            do {
                try process.run()
            } catch {
                finish(false)
            }
        }
        guard started else {
            if process.isRunning { process.terminate() }
            return nil
        }
        // Keep draining its access log so the pipe never fills.
        output.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
        return LocalStripe(baseURL: "http://127.0.0.1:\(port)", process: process)
    }

    private init(baseURL: String, process: Process) {
        self.baseURL = baseURL
        self.process = process
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

struct LocalStripeError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs `body` against a fresh localstripe; skips outside CI when it is not installed, fails in CI.
func withLocalStripe(_ body: (LocalStripe) async throws -> Void) async throws {
    guard let executable = LocalStripe.executable else {
        if isCI { Issue.record(Comment(rawValue: LocalStripe.missing)) } else { print("skipped: \(LocalStripe.missing)") }
        return
    }
    let server = try await LocalStripe.start(executable)
    defer { server.stop() }
    try await body(server)
}
