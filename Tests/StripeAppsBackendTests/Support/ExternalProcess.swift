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

/// The result of running a program to completion.
struct ProcessOutput {
    let status: Int32
    let standardOutput: String
    let standardError: String
}

/// Runs a program with the given standard input and waits for it to exit, or kills it at a deadline.
///
/// - Parameter timeout: how long the program may run; past it, it is killed and this throws
///   ``ExternalProcessTimedOut``, so that a program that hangs (a browser that never finishes a page, say) fails
///   its test instead of holding the whole run.
func runProcess(
    _ executable: URL,
    _ arguments: [String],
    input: Data = Data(),
    environment: [String: String] = [:],
    currentDirectory: URL? = nil,
    timeout: Duration = .seconds(180)
) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = executable
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let deadline = ProcessDeadline(process, after: timeout)
    // Read both pipes while writing, so that neither side blocks on a full pipe buffer.
    let group = DispatchGroup()
    nonisolated(unsafe) var out = Data()
    nonisolated(unsafe) var err = Data()
    DispatchQueue.global().async(group: group) { out = stdout.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
    try stdin.fileHandleForWriting.write(contentsOf: input)
    try stdin.fileHandleForWriting.close()
    group.wait()
    process.waitUntilExit()
    if deadline.end() {
        throw ExternalProcessTimedOut(program: executable.lastPathComponent, arguments: arguments, timeout: timeout)
    }
    return ProcessOutput(
        status: process.terminationStatus,
        standardOutput: String(decoding: out, as: UTF8.self),
        standardError: String(decoding: err, as: UTF8.self)
    )
}

/// A program that ran past its deadline and was killed.
struct ExternalProcessTimedOut: Error, CustomStringConvertible {
    let program: String
    let arguments: [String]
    let timeout: Duration
    var description: String { "\(program) \(arguments.joined(separator: " ")) did not exit within \(timeout); killed" }
}

/// Kills a running process with SIGKILL when a deadline passes, unless ``end()`` came first.
///
/// SIGKILL, not SIGTERM: a child inherits an ignored SIGTERM from whatever started the test run, and a program that
/// never installs its own handler would then ignore `terminate()`.
final class ProcessDeadline: @unchecked Sendable {
    // `lock` guards `state`: the timer's queue and the caller's thread both touch it.
    private let lock = NSLock()
    private var state = State.running

    private enum State { case running, ended, fired }

    init(_ process: Process, after timeout: Duration) {
        let pid = process.processIdentifier
        let (seconds, attoseconds) = timeout.components
        let interval = Double(seconds) + Double(attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + interval) { [self] in
            lock.lock()
            defer { lock.unlock() }
            guard state == .running else { return }
            state = .fired
            kill(pid, SIGKILL)
        }
    }

    /// Call once the process has exited: returns whether the deadline had killed it.
    func end() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if state == .running { state = .ended }
        return state == .fired
    }
}

/// Runs a program off the cooperative thread pool and awaits its exit.
///
/// Use it when the program talks to servers running in this test process: the blocking ``runProcess`` would
/// hold one of the few cooperative threads those servers need.
func runProcessAsync(
    _ executable: URL,
    _ arguments: [String],
    input: Data = Data(),
    environment: [String: String] = [:],
    currentDirectory: URL? = nil,
    timeout: Duration = .seconds(180)
) async throws -> ProcessOutput {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(
                with: Result {
                    try runProcess(
                        executable, arguments, input: input, environment: environment,
                        currentDirectory: currentDirectory,
                        timeout: timeout)
                }
            )
        }
    }
}

/// Finds an outside tool, or explains why it is missing: the caller skips outside CI and fails in CI.
enum ExternalTool {
    /// The built `stripe-apps-backend` executable, next to this test bundle.
    static var backend: URL {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        return directory.appendingPathComponent("stripe-apps-backend")
    }

    /// A Python with the official `stripe` package: `STRIPE_APPS_PYTHON`, else `.venv/bin/python` in the package.
    static let python = python(importing: "stripe")

    /// A Python with Selenium (`Tests/CrossCheck/requirements.txt`), for the multi-step admin page flow.
    static let seleniumPython = python(importing: "selenium")

    /// A Python with the official `opentelemetry-proto` package (`Tests/CrossCheck/requirements.txt`), which reads
    /// our OTLP export bodies.
    static let otlpPython = python(importing: "opentelemetry.proto")

    /// `STRIPE_APPS_PYTHON`, else `.venv/bin/python` in the package, when it can import `module`.
    static func python(importing module: String) -> URL? {
        let configured = ProcessInfo.processInfo.environment["STRIPE_APPS_PYTHON"]
        let candidate =
            configured.map(URL.init(fileURLWithPath:)) ?? packageRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: candidate.path),
            let check = try? runProcess(candidate, ["-c", "import \(module)"]), check.status == 0
        else { return nil }
        return candidate
    }

    /// Debian's `chromedriver` (package `chromium-driver`), which Selenium drives Chromium through.
    static let chromedriver = onPath("chromedriver")

    /// `node`, for checking JSON text against `JSON.stringify`.
    static let node = onPath("node")

    /// Debian's `chromium`, for real-browser tests.
    static let chromium = onPath("chromium")

    static func onPath(_ name: String) -> URL? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    static let otlpMissing =
        "the official opentelemetry-proto Python package is missing: run `python3 -m venv .venv && .venv/bin/pip install -r Tests/CrossCheck/requirements.txt` (or set STRIPE_APPS_PYTHON)"

    static let pythonMissing =
        "the official stripe Python package is missing: run `python3 -m venv .venv && .venv/bin/pip install stripe` (or set STRIPE_APPS_PYTHON)"
}
