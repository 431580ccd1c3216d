import ArgumentParser
import Foundation
import StripeApps
import StripeAppsPostgres
import StripeAppsSQLite
import StripeAppsServer

/// `migrate`: applies the migrations to `DATABASE_URL`, or copies an embedded database to PostgreSQL.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply database migrations to DATABASE_URL and exit; or copy SQLite to PostgreSQL.",
        discussion: """
            With --from sqlite:PATH --to postgres://…, migrates both, then copies every table (installations with \
            their change times, settings with versions, the inbox with statuses, attempts and leases, sealed \
            credentials, the audit log, metadata including the development secret) in one transaction, and prints \
            the rows per table. A target that holds any row is refused unless --force, which replaces its data. \
            Stop the server that uses the SQLite file first.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "The embedded database to copy from (sqlite:PATH).")
    var from: String?

    @Option(help: "The PostgreSQL database to copy into (postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=…).")
    var to: String?

    @Flag(help: "Replace the data of a target that is not empty.")
    var force = false

    func validate() throws {
        guard (from == nil) == (to == nil) else { throw ValidationError("--from and --to go together.") }
        guard !force || from != nil else { throw ValidationError("--force only applies to a copy (--from, --to).") }
    }

    func run() async throws {
        let configuration = try await options.read()
        guard let from, let to else {
            let migrated = try await SelectedStorage.open(configuration).migrate()
            if migrated.new.isEmpty {
                print("up to date: \(migrated.all.count) migrations applied, the last \(migrated.all.last ?? "none")")
            }
            for name in migrated.new { print("applied \(name)") }
            return
        }
        let source = try Self.url(from, "--from")
        let target = try Self.url(to, "--to")
        guard case .sqlite(let sqlite) = try SelectedStorage.open(source, configuration: configuration),
            case .postgres(let postgres) = try SelectedStorage.open(target, configuration: configuration)
        else {
            throw ValidationError("--from must be a sqlite: URL and --to a postgres:// URL.")
        }
        let rows = try await SelectedStorage.sqlite(sqlite).withMigrated { _ in try await sqlite.exportRows() }
        do {
            try await SelectedStorage.postgres(postgres).withMigrated { _ in
                try await postgres.importRows(rows, replacing: force)
            }
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("migrate: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        print("copied \(source) to \(target)")
        for (table, count) in rows.counts { print("\(table)\t\(count)") }
    }

    private static func url(_ text: String, _ option: String) throws -> DatabaseURL {
        do {
            return try DatabaseURL(text)
        } catch {
            throw ValidationError("\(option) \(error.problem)")
        }
    }
}
