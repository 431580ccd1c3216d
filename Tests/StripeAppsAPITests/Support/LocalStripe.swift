import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

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
        let candidate =
            configured.map(URL.init(fileURLWithPath:)) ?? packageRoot.appendingPathComponent(".venv/bin/localstripe")
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
        let (exits, exited) = AsyncStream.makeStream(of: Void.self)
        process.terminationHandler = { _ in exited.finish() }
        try process.run()
        // Our copy of the write end must close, or the reader never sees end-of-file when localstripe exits.
        try? output.fileHandleForWriting.close()
        // A localstripe that neither serves nor exits within a minute is killed, which ends its output.
        let pid = process.processIdentifier
        let startDeadline = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: startDeadline)
        // A dedicated thread reads its output with blocking reads: it reports when localstripe says it is serving
        // (or exits), then keeps draining the access log so the pipe never fills.
        let reader = output.fileHandleForReading
        let started: Bool = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = ""
                var reported = false
                while true {
                    let data = reader.availableData
                    if data.isEmpty { break }
                    guard !reported else { continue }
                    text += String(decoding: data, as: UTF8.self)
                    if text.contains("Running on") {
                        reported = true
                        continuation.resume(returning: true)
                    } else if text.contains("Errno") || text.contains("Traceback") {
                        reported = true
                        continuation.resume(returning: false)
                    }
                }
                if !reported { continuation.resume(returning: false) }
            }
        }
        startDeadline.cancel()
        guard started else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            return nil
        }
        return LocalStripe(baseURL: "http://127.0.0.1:\(port)", process: process, exits: exits)
    }

    private let exits: AsyncStream<Void>

    private init(baseURL: String, process: Process, exits: AsyncStream<Void>) {
        self.baseURL = baseURL
        self.process = process
        self.exits = exits
    }

    /// Stops it and awaits its exit (`waitUntilExit` would spin the run loop of a cooperative thread).
    func stop() async {
        // SIGKILL: the test process may run with SIGTERM blocked, and children inherit that mask.
        kill(process.processIdentifier, SIGKILL)
        for await _ in exits {}
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct LocalStripeError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs `body` against a fresh localstripe; skips outside CI when it is not installed, fails in CI.
func withLocalStripe(_ body: (LocalStripe) async throws -> Void) async throws {
    guard let executable = LocalStripe.executable else {
        if isCI {
            Issue.record(Comment(rawValue: LocalStripe.missing))
        } else {
            print("skipped: \(LocalStripe.missing)")
        }
        return
    }
    let server = try await LocalStripe.start(executable)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}
