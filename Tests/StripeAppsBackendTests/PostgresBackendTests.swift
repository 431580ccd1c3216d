import Foundation
import Testing

/// The executables on PostgreSQL, as several instances run them (`POSTGRES_URL`; `scripts/test.sh` starts a
/// throwaway server, and with `CI=true` these fail without one).
@Suite(.enabled(if: PostgresServer.isEnabled, "needs POSTGRES_URL")) struct PostgresBackendTests {
    /// Two instances on one database, 20,000 events with duplicates, one instance SIGKILLed mid-handler
    /// (Tests/Reliability/two_instances.py signs, sends and checks independently of our code).
    @Test func twoInstancesOnOneDatabaseRunEveryEventOnceThroughAKill() async throws {
        let python = try #require(ExternalTool.onPath("python3"), "python3 is not on PATH")
        let database = try await PostgresServer.freshDatabase()
        let script = packageRoot.appendingPathComponent("Tests/Reliability/two_instances.py")
        let server = ExternalTool.backend.deletingLastPathComponent().appendingPathComponent("stripe-apps-test-server")
        // 20,000 events through two debug builds take 2-3 minutes on two cores shared with the rest of the suite.
        // A 6 s lease (heartbeats every 2 s) outlasts a loaded machine's pauses, which a 3 s lease did not always.
        let result = try await runProcessAsync(
            python,
            [script.path, "--binary", server.path, "--database-url", database, "--events", "20000", "--lease", "6"],
            timeout: .seconds(480))
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("8 passed, 0 failed"), "\(result.standardOutput)")
    }

    /// Two instances run a per-installation every-second schedule for 50 tenants, at least 1,000 slots, one
    /// instance SIGKILLed while its jobs run (Tests/Reliability/scheduled_two_instances.py checks the database and
    /// the runs' own records): each (schedule, tenant, slot) has one job, no slot is lost, cut runs run again on the
    /// other instance, and no slot runs on both at once.
    @Test func twoInstancesRunEachScheduledSlotOnceThroughAKill() async throws {
        let python = try #require(ExternalTool.onPath("python3"), "python3 is not on PATH")
        let database = try await PostgresServer.freshDatabase()
        let script = packageRoot.appendingPathComponent("Tests/Reliability/scheduled_two_instances.py")
        let server = ExternalTool.backend.deletingLastPathComponent().appendingPathComponent("stripe-apps-test-server")
        let result = try await runProcessAsync(
            python, [script.path, "--binary", server.path, "--database-url", database], timeout: .seconds(360))
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("9 passed, 0 failed"), "\(result.standardOutput)")
    }

    /// PostgreSQL stopped under load, then started again (Tests/Reliability/postgres_outage.py, on a server of
    /// its own so that no other test loses its database).
    @Test func anOutageIs503AndRecoversByItself() async throws {
        let python = try #require(ExternalTool.onPath("python3"), "python3 is not on PATH")
        let script = packageRoot.appendingPathComponent("Tests/Reliability/postgres_outage.py")
        let result = try await runProcessAsync(python, [script.path, "--binary", ExternalTool.backend.path])
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("8 passed, 0 failed"), "\(result.standardOutput)")
    }

    /// `migrate --from sqlite:… --to postgres://…`, then `serve` on the copy answers signed settings reads with
    /// the values and versions written on SQLite.
    @Test func aCopiedDatabaseServesTheSameSettings() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = "sqlite:\(directory.path)/source.sqlite"
        let secret = ["STRIPE_APP_SECRETS": "absec_copy_test_secret", "STRIPE_WEBHOOK_SECRETS_TEST": "whsec_copy_test"]
        let port = try freePort()
        do {
            let server = try ServeProcess(
                arguments: ["--port", "\(port)"], directory: directory,
                environment: secret.merging(["DATABASE_URL": sqlite]) { $1 })
            defer { server.stop() }
            try await server.waitUntilReady(port: port)
            // Settings are a tenant route: the app is installed first, by its signed event.
            let installed = try await runProcessAsync(
                ExternalTool.backend,
                [
                    "simulate", "event", "--to", "http://127.0.0.1:\(port)", "--type", "account.application.authorized",
                    "--account", "acct_copy", "--test", "--secret", "whsec_copy_test",
                ])
            #expect(installed.standardOutput.contains("-> 200"), "\(installed.standardOutput)")
            let processed = await server.logLines.first { $0.contains("event processed") }
            try #require(processed != nil, "serve exited before processing the install event")
            for (version, theme) in [(0, "dark"), (1, "light")] {
                let written = try await runProcessAsync(
                    ExternalTool.backend,
                    [
                        "simulate", "ui", "--to", "http://127.0.0.1:\(port)/api/settings", "--account", "acct_copy",
                        "--user", "usr_1", "--mode", "test", "--secret", "absec_copy_test_secret",
                        "--extra", #"{"version":\#(version),"theme":"\#(theme)"}"#,
                    ])
                #expect(written.standardOutput.hasPrefix("HTTP 200"), "\(written.standardOutput)")
            }
        }
        let target = try await PostgresServer.freshDatabase()
        let copied = try await runProcessAsync(
            ExternalTool.backend, ["migrate", "--from", sqlite, "--to", target], currentDirectory: directory)
        #expect(copied.status == 0, "\(copied.standardError)")
        #expect(copied.standardOutput.contains("settings\t1"))
        #expect(!copied.standardOutput.contains("stripe_apps:stripe_apps@"), "the password is not printed")
        let again = try await runProcessAsync(
            ExternalTool.backend, ["migrate", "--from", sqlite, "--to", target], currentDirectory: directory)
        #expect(again.status == 1)
        #expect(again.standardError.contains("not empty"))

        let server = try ServeProcess(
            arguments: ["--port", "\(port)"], directory: directory,
            environment: secret.merging(["DATABASE_URL": target]) { $1 })
        defer { server.stop() }
        try await server.waitUntilReady(port: port)
        let read = try await runProcessAsync(
            ExternalTool.backend,
            [
                "simulate", "ui", "--to", "http://127.0.0.1:\(port)/api/settings", "--method", "GET", "--account",
                "acct_copy", "--user", "usr_1", "--mode", "test", "--secret", "absec_copy_test_secret",
            ])
        #expect(read.standardOutput.hasPrefix("HTTP 200"), "\(read.standardOutput)")
        #expect(read.standardOutput.contains(#""version":2"#), "\(read.standardOutput)")
        #expect(read.standardOutput.contains(#""values":{"theme":"light"}"#), "\(read.standardOutput)")
    }
}

/// The PostgreSQL server of the tests.
enum PostgresServer {
    static let url = ProcessInfo.processInfo.environment["POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static var isEnabled: Bool {
        if url == nil, !isCI {
            FileHandle.standardError.write(
                Data("PostgreSQL tests skipped: set POSTGRES_URL (eval \"$(scripts/postgres.sh start)\")\n".utf8))
        }
        return url != nil || isCI
    }

    /// A new empty database on the server, as a `postgres://` URL.
    static func freshDatabase() async throws -> String {
        let base = try #require(url, "POSTGRES_URL is not set; CI=true needs PostgreSQL (scripts/postgres.sh start)")
        let psql = try #require(ExternalTool.onPath("psql"), "psql is not on PATH")
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let created = try await runProcessAsync(psql, ["-X", "-q", base, "-c", "CREATE DATABASE \(name)"])
        #expect(created.status == 0, "\(created.standardError)")
        var components = try #require(URLComponents(string: base))
        components.path = "/\(name)"
        return try #require(components.string)
    }
}
