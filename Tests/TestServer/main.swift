// A backend for the multi-instance reliability test (Tests/Reliability/two_instances.py): exactly what
// `stripe-apps-backend serve` runs, on the storage DATABASE_URL names, plus one handler for every event that
// records when each run starts and ends on this instance.
//
// Each record is one `write(2)` of a whole line to RECORD_FILE (opened with O_APPEND), so lines from several
// processes never interleave and a line written before a SIGKILL is kept. An event whose `data.object.slow`
// is true takes `SLOW_SECONDS` (default 2) in its handler, so the test can kill an instance mid-handler.
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
let hooks = ApplicationHooks(eventHandlers: handlers)
let url = try configuration.database()
if let postgres = url.postgres {
    let storage = try PostgresStorage(
        configuration: .init(
            location: postgres, maximumConnections: configuration.databasePoolSize,
            operationTimeout: .seconds(configuration.databaseTimeoutSeconds)),
        logger: logger)
    try await buildApplication(configuration: configuration, storage: storage, logger: logger, hooks: hooks)
        .runService()
} else if let sqlite = url.sqlite {
    try await buildApplication(
        configuration: configuration, storage: try SQLiteStorage(location: sqlite), logger: logger, hooks: hooks
    ).runService()
}
