// A backend for the multi-instance reliability test (Tests/Reliability/two_instances.py): exactly what
// `stripe-apps-backend serve` runs, on the storage DATABASE_URL names, plus one handler for every event that
// records when each run starts and ends on this instance.
//
// Each record is one `write(2)` of a whole line to RECORD_FILE (opened with O_APPEND), so lines from several
// processes never interleave and a line written before a SIGKILL is kept. An event whose `data.object.slow`
// is true takes `SLOW_SECONDS` (default 2) in its handler, so the test can kill an instance mid-handler.
//
// With `TICK_SECONDS` set, a per-installation schedule runs a `tick` job every second for every installed tenant
// (Tests/Reliability/scheduled_two_instances.py); each run records `jobstart|jobend SLOT_KEY INSTANCE TIME` and
// takes TICK_SECONDS in between.
import Configuration
import Foundation
import Hummingbird
import Logging
import StripeApps
import StripeAppsPostgres
import StripeAppsSQLite
import StripeAppsServer

let environment = ProcessInfo.processInfo.environment
let reader = ConfigReader(provider: EnvironmentVariablesProvider())
let configuration = try AppConfiguration(reader: reader)
let instance = configuration.instanceID ?? "instance"
let slowSeconds = Double(environment["SLOW_SECONDS"] ?? "") ?? 2
guard let recordPath = environment["RECORD_FILE"] else {
    FileHandle.standardError.write(Data("RECORD_FILE is required\n".utf8))
    exit(2)
}
let recordFile = open(recordPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
guard recordFile >= 0 else {
    FileHandle.standardError.write(Data("cannot open RECORD_FILE\n".utf8))
    exit(2)
}

/// Appends `start|end EVENT INSTANCE UNIX_SECONDS` in one write.
@Sendable func record(_ what: String, _ event: String) {
    let line = "\(what) \(event) \(instance) \(Date().timeIntervalSince1970)\n"
    _ = line.withCString { write(recordFile, $0, strlen($0)) }
}

var handlers = EventHandlers()
handlers.onEvery { context in
    record("start", context.event.id)
    if context.event.payload["data"]?["object"]?["slow"] == .bool(true) {
        try await Task.sleep(for: .seconds(slowSeconds))
    }
    record("end", context.event.id)
}
var logger = Logger(label: "test-server")
logger.logLevel = configuration.logLevel

/// Runs `body` while `storage` runs, migrated.
func withStorageRunning<Storage: StorageBackend>(_ storage: Storage, _ body: () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await storage.run() }
        try await storage.migrate()
        try await body()
        group.cancelAll()
    }
}

struct Tick: JobParameters {
    static let jobName = "tick"
}

/// The app's job worker, with the every-second tick schedule when `TICK_SECONDS` is set.
func tickWorker<Storage: StorageBackend>(_ storage: Storage, logger: Logger) throws -> JobWorker? {
    guard let tickSeconds = environment["TICK_SECONDS"].flatMap(Double.init) else { return nil }
    var registry = JobRegistry()
    registry.registerJob(parameters: Tick.self, retryStrategy: .exponentialJitter(maxAttempts: 10)) { _, context in
        let key = context.slotKey ?? context.jobID
        record("jobstart", key)
        try await Task.sleep(for: .milliseconds(Int64(tickSeconds * 1000)))
        record("jobend", key)
    }
    try registry.addSchedule(
        "tick", try JobSchedule.every(.seconds(1)), parameters: Tick(), perInstallation: true, accuracy: .all,
        grace: .seconds(600))
    return jobWorker(configuration: configuration, storage: storage, registry: registry, logger: logger)
}
let url = try configuration.database()
let benchmark = CommandLine.arguments.dropFirst().first == "jobs-bench"
if let postgres = url.postgres {
    let storage = try PostgresStorage(
        configuration: .init(
            location: postgres, maximumConnections: configuration.databasePoolSize,
            operationTimeout: .seconds(configuration.databaseTimeoutSeconds),
            preparesStatements: configuration.databasePreparedStatements),
        logger: logger)
    if benchmark {
        try await withStorageRunning(storage) {
            try await JobsBenchmark.run(storage: storage, configuration: configuration, logger: logger)
        }
        exit(0)
    }
    let hooks = ApplicationHooks(eventHandlers: handlers, jobWorker: try tickWorker(storage, logger: logger))
    try await buildApplication(configuration: configuration, storage: storage, logger: logger, hooks: hooks)
        .runService()
} else if let sqlite = url.sqlite {
    let storage = try SQLiteStorage(location: sqlite)
    if benchmark {
        try await withStorageRunning(storage) {
            try await JobsBenchmark.run(storage: storage, configuration: configuration, logger: logger)
        }
        exit(0)
    }
    let hooks = ApplicationHooks(eventHandlers: handlers, jobWorker: try tickWorker(storage, logger: logger))
    try await buildApplication(configuration: configuration, storage: storage, logger: logger, hooks: hooks)
        .runService()
}
