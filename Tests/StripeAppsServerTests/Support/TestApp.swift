import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Synchronization
import Testing

/// The fixed "now" of router tests.
let testNow = Date(timeIntervalSince1970: 1_700_000_000)
let appSecret = "absec_test_router_secret_0123456789"
let oldAppSecret = "absec_test_router_secret_previous"

extension AppConfiguration {
    /// A production-mode configuration with the test secrets.
    static func testing(maximumBodyBytes: Int = 4096, maximumSettingsBytes: Int = 1024) throws -> AppConfiguration {
        AppConfiguration(
            appSecrets: try SigningKeyring(secrets: [appSecret, oldAppSecret]),
            port: 0,
            databaseURL: "sqlite::memory:",
            maximumBodyBytes: maximumBodyBytes,
            maximumSettingsBytes: maximumSettingsBytes
        )
    }
}

/// Signs as the UI extension would, at the fixed test time.
let signer = try! UIExtensionSigner(secrets: [appSecret], now: { testNow })

/// Builds the real application over `storage` (in memory by default) and runs `body` against its router; the
/// storage runs and migrates as the application's first service, exactly as under `serve`.
func withTestApp<Storage: StorageBackend>(
    configuration: AppConfiguration? = nil,
    storage: Storage,
    logger: Logger? = nil,
    configureAPI: @escaping @Sendable (RouterGroup<VerifiedRequestContext>) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let app = try buildApplication(
        configuration: configuration ?? .testing(),
        storage: storage,
        logger: logger,
        hooks: ApplicationHooks(now: { testNow }, configureAPI: configureAPI)
    )
    try await app.test(.router, body)
}

/// ``withTestApp(configuration:storage:logger:configureAPI:_:)`` over a new in-memory storage where the app is
/// installed for `installed` (signed tenant routes refuse other tenants with 403 `not_installed`).
func withTestApp(
    configuration: AppConfiguration? = nil,
    installed: [Tenant] = [],
    logger: Logger? = nil,
    configureAPI: @escaping @Sendable (RouterGroup<VerifiedRequestContext>) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let storage = InMemoryStorage()
    for tenant in installed { try await install(tenant, in: storage) }
    try await withTestApp(
        configuration: configuration, storage: storage, logger: logger, configureAPI: configureAPI, body)
}

/// An install through the one write path, as the callback or an event records it.
func install(_ tenant: Tenant, in storage: InMemoryStorage, at date: Date = testNow) async throws {
    _ = try await storage.installations.apply(
        InstallationChange(
            tenant: tenant, action: .activate, source: .installCallback, occurredAt: date, recordedAt: date))
}

extension TestClientProtocol {
    /// Sends a signed request.
    @discardableResult
    func execute(_ uri: String, _ method: HTTPRequest.Method, _ request: SignedUIRequest) async throws -> TestResponse {
        try await execute(uri: uri, method: method, headers: request.headers, body: request.body)
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }

    /// The body parsed as JSON.
    func json() throws -> PayloadValue { try PayloadValue.parse(Array(body.readableBytesView)) }

    /// The `error.code` of a JSON error body.
    var errorCode: String? { (try? json())?["error"]?["code"]?.stringValue }
}

/// Where ``CapturingLogHandler`` puts every log line, to check what reaches the logs.
final class LogSink: Sendable {
    private struct State {
        var lines: [String] = []
        var waiters: [UUID: (text: String, continuation: CheckedContinuation<String?, Never>)] = [:]
    }

    private let state = Mutex(State())

    var all: String { state.withLock { $0.lines.joined(separator: "\n") } }

    /// The first line containing `text`, once one is logged; `nil`, with an issue recorded, when none is within
    /// `timeLimit`, so that a line that never comes fails the test instead of holding the whole run.
    func line(containing text: String, within timeLimit: Duration = .seconds(60)) async -> String? {
        let id = UUID()
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeLimit)
            self?.resume(id, with: nil)
        }
        defer { timer.cancel() }
        let line = await withCheckedContinuation { continuation in
            let found = state.withLock { state -> String? in
                if let line = state.lines.first(where: { $0.contains(text) }) { return line }
                state.waiters[id] = (text, continuation)
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
        if line == nil { Issue.record("no log line containing \"\(text)\" within \(timeLimit)") }
        return line
    }

    private func resume(_ id: UUID, with line: String?) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: line)
    }

    var logger: Logger {
        var logger = Logger(label: "test") { _ in CapturingLogHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    func append(_ line: String) {
        let ready = state.withLock { state in
            state.lines.append(line)
            let ready = state.waiters.filter { line.contains($0.value.text) }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: line) }
    }
}

/// A value-semantics log handler writing message, metadata and source into a ``LogSink``.
struct CapturingLogHandler: LogHandler {
    let sink: LogSink
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.append("\(event.level) \(event.message) \(merged) \(event.source)")
    }
}

/// A clock tests move forward, from ``testNow``.
final class TestClock: Sendable {
    private let date = Mutex(testNow)
    func withLock<R: Sendable>(_ body: (inout Date) -> R) -> R { date.withLock { body(&$0) } }
}

/// The first element of `stream`, or `nil` when none arrives within `limit`.
func firstValue<T: Sendable>(of stream: AsyncStream<T>, within limit: Duration) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await stream.first { _ in true } }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
