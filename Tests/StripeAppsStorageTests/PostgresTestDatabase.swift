import Foundation
import Logging
import PostgresNIO
import StripeApps
import StripeAppsPostgres
import Testing

/// Fresh PostgreSQL databases for tests, on the server `POSTGRES_URL` names (`scripts/postgres.sh start` runs
/// a throwaway one; `scripts/test.sh` and `.ci/run` do it for you).
///
/// Outside CI, the PostgreSQL cases are left out with a message when `POSTGRES_URL` is not set; with
/// `CI=true` they run anyway and fail, so CI cannot pass without PostgreSQL.
enum PostgresTestDatabase {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let isRequired = environment["CI"] == "true"

    /// Whether the PostgreSQL cases run.
    static var isEnabled: Bool {
        if url == nil, !isRequired {
            FileHandle.standardError.write(
                Data("PostgreSQL tests skipped: set POSTGRES_URL (eval \"$(scripts/postgres.sh start)\")\n".utf8))
        }
        return url != nil || isRequired
    }

    /// The server's location, or a failure saying how to get one.
    static func location() throws -> DatabaseURL.Postgres {
        guard let url else {
            Issue.record("POSTGRES_URL is not set; CI=true needs PostgreSQL (scripts/postgres.sh start)")
            throw StoreError(.unavailable, message: "no PostgreSQL")
        }
        return try #require(try DatabaseURL(url).postgres)
    }

    /// Runs `body` with a new, empty database on the test server, dropped afterwards.
    static func withFreshDatabase<R>(_ body: (DatabaseURL.Postgres) async throws -> R) async throws -> R {
        let base = try location()
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await administer(base, "CREATE DATABASE \(name)")
        let fresh = base.database(name)
        do {
            let result = try await body(fresh)
            try await drop(name, on: base)
            return result
        } catch {
            try? await drop(name, on: base)
            throw error
        }
    }

    /// Drops a test database, ending whatever is still connected to it.
    ///
    /// `WITH (FORCE)` refuses (42501) when an autovacuum worker is in the database at that moment: the worker
    /// has no role the test role may signal. A plain `DROP DATABASE` ends autovacuum workers itself and waits
    /// up to 5 s for other sessions, so it is the fallback; its error is the one reported.
    static func drop(_ name: String, on base: DatabaseURL.Postgres) async throws {
        do {
            try await administer(base, "DROP DATABASE \(name) WITH (FORCE)")
        } catch {
            try await administer(base, "DROP DATABASE IF EXISTS \(name)")
        }
    }

    /// Runs one statement outside any transaction (`CREATE DATABASE` cannot run in one) on the base database,
    /// over one connection of its own (a pool would warn when the statement is issued before its `run()` began).
    static func administer(_ location: DatabaseURL.Postgres, _ sql: String) async throws {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: .disable)
        // postgres-nio's errors print nothing useful: a failure says what the server answered.
        struct AdministrationFailed: Error, CustomStringConvertible {
            let description: String
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: configuration, id: 1, logger: Logger(label: "test.postgres"))
        } catch {
            throw AdministrationFailed(description: "connect for \(sql.prefix(40)): \(String(reflecting: error))")
        }
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test.postgres"))
        } catch {
            try? await connection.close()
            throw AdministrationFailed(description: "\(sql.prefix(40)): \(String(reflecting: error))")
        }
        try await connection.close()
    }
}
