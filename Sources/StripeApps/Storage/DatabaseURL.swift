#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A parsed `DATABASE_URL`: the one place that tells which backend it names.
///
/// - `sqlite:PATH`, `sqlite://PATH` or `sqlite::memory:`: the embedded SQLite backend.
/// - `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE` (or `postgresql://`): PostgreSQL, for several
///   instances. `sslmode` is `disable`, `prefer` (the default, as in libpq), `require`, `verify-ca` or
///   `verify-full`; `sslrootcert=PATH` names the CA certificates to verify the server with.
///
/// The ``description`` never shows the password.
public struct DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    /// An embedded SQLite database.
    public struct SQLite: Sendable, Hashable {
        /// The file path, or `nil` for a private in-memory database.
        public let path: String?

        /// A file, or memory when `path` is `nil`.
        public init(path: String?) {
            self.path = path
        }
    }

    /// A PostgreSQL server.
    public struct Postgres: Sendable, Hashable {
        /// The host name or address.
        public let host: String
        /// The port (5432 when not given).
        public let port: Int
        /// The role to connect as.
        public let username: String
        /// Its password, when one is given.
        public let password: String?
        /// The database.
        public let database: String
        /// How TLS is used.
        public let sslMode: SSLMode
        /// A PEM file of CA certificates to verify the server's certificate with (`sslrootcert`).
        public let rootCertificatePath: String?

        /// The same server and role, another database.
        public func database(_ name: String) -> Postgres {
            Postgres(
                host: host, port: port, username: username, password: password, database: name, sslMode: sslMode,
                rootCertificatePath: rootCertificatePath)
        }
    }

    /// How a PostgreSQL connection uses TLS, with libpq's names and meanings.
    public struct SSLMode: Sendable, Hashable, CustomStringConvertible {
        /// The libpq name.
        public let description: String

        private init(_ name: String) {
            description = name
        }

        /// No TLS.
        public static let disable = SSLMode("disable")
        /// TLS when the server offers it, without verifying its certificate.
        public static let prefer = SSLMode("prefer")
        /// TLS always, without verifying the certificate (protects against eavesdropping only).
        public static let require = SSLMode("require")
        /// TLS always; the certificate must chain to a trusted CA (any host name).
        public static let verifyCA = SSLMode("verify-ca")
        /// TLS always; the certificate must chain to a trusted CA and name the host. Use this in production.
        public static let verifyFull = SSLMode("verify-full")

        static let all: [SSLMode] = [.disable, .prefer, .require, .verifyCA, .verifyFull]
    }

    /// A `DATABASE_URL` that cannot be used; the message never contains the password.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// What is wrong.
        public let problem: String
        public var description: String { problem }
    }

    /// Set for `sqlite:` URLs.
    public let sqlite: SQLite?
    /// Set for `postgres://` and `postgresql://` URLs.
    public let postgres: Postgres?

    /// Parses a `DATABASE_URL`.
    ///
    /// - Throws: ``ParseError`` for an unknown scheme or a malformed URL.
    public init(_ text: String) throws(ParseError) {
        if text.hasPrefix("sqlite:") {
            let body = text.hasPrefix("sqlite://") ? text.dropFirst("sqlite://".count) : text.dropFirst("sqlite:".count)
            guard !body.isEmpty else {
                throw ParseError(problem: "sqlite: needs a path, e.g. sqlite:stripe-apps.sqlite")
            }
            sqlite = SQLite(path: body == ":memory:" ? nil : String(body))
            postgres = nil
            return
        }
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else {
            let scheme = text.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            throw ParseError(
                problem: "has the scheme \"\(scheme.prefix(20))\"; use sqlite:PATH, sqlite::memory: or postgres://…")
        }
        sqlite = nil
        postgres = try Self.parsePostgres(text)
    }

    private static func parsePostgres(_ text: String) throws(ParseError) -> Postgres {
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw ParseError(problem: "is not a valid postgres://USER:PASSWORD@HOST:PORT/DATABASE URL")
        }
        guard let username = components.user, !username.isEmpty else {
            throw ParseError(problem: "names no user: postgres://USER@HOST/DATABASE")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw ParseError(problem: "names no database: postgres://USER@HOST/DATABASE")
        }
        var sslMode = SSLMode.prefer
        var rootCertificatePath: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode.all.first(where: { $0.description == item.value }) else {
                    throw ParseError(
                        problem: "sslmode must be one of \(SSLMode.all.map(\.description).joined(separator: ", "))")
                }
                sslMode = mode
            case "sslrootcert":
                rootCertificatePath = item.value
            default:
                throw ParseError(
                    problem: "has the unknown parameter \"\(item.name.prefix(40))\" (sslmode, sslrootcert)")
            }
        }
        return Postgres(
            host: host,
            port: components.port ?? 5432,
            username: username,
            password: components.password,
            database: database,
            sslMode: sslMode,
            rootCertificatePath: rootCertificatePath
        )
    }

    public var description: String {
        if let sqlite { return sqlite.path.map { "sqlite:\($0)" } ?? "sqlite::memory:" }
        guard let postgres else { return "" }
        let password = postgres.password == nil ? "" : ":***"
        return "postgres://\(postgres.username)\(password)@\(postgres.host):\(postgres.port)/\(postgres.database)"
            + "?sslmode=\(postgres.sslMode)"
    }
}
