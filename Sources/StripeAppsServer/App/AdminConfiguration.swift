public import Configuration
import Foundation

/// How the admin page (`/admin`) behaves; it is off (404) unless `ADMIN_TOKEN` is set.
///
/// | Key (environment variable) | Default | Meaning |
/// |---|---|---|
/// | `ADMIN_TOKEN` | none: no admin page | the token that logs in a full admin session (32+ characters advised) |
/// | `ADMIN_READONLY_TOKEN` | none | a second token that logs in a read-only session (no replay, discard or cancel) |
/// | `ADMIN_SESSION_SECONDS` | `28800` (8 h) | how long an admin session lasts from its login |
/// | `ADMIN_LOGIN_RATE_LIMIT_PER_MINUTE` | `10` | login attempts one client address may make per minute |
public struct AdminConfiguration: Sendable {
    /// The token of full admin sessions; `nil` turns the admin page off.
    public var token: String?
    /// The token of read-only sessions.
    public var readOnlyToken: String?
    /// How long a session lasts from its login, in seconds.
    public var sessionSeconds = 28_800
    /// Login attempts one client address may make per minute.
    public var loginRateLimitPerMinute = 10

    /// Creates a configuration; without `token` the admin page is off.
    public init(token: String? = nil, readOnlyToken: String? = nil) {
        self.token = token
        self.readOnlyToken = readOnlyToken
    }

    /// Whether the admin page is served.
    public var isEnabled: Bool { token != nil }

    /// Reads the keys in the table above.
    ///
    /// - Throws: ``ConfigurationError`` for a token with spaces or control characters, longer than 256 characters,
    ///   or a read-only token equal to the admin token; never quoting a token.
    public init(reader: ConfigReader) throws {
        self.init()
        token = try Self.token(reader, "admin.token", "ADMIN_TOKEN")
        readOnlyToken = try Self.token(reader, "admin.readonly.token", "ADMIN_READONLY_TOKEN")
        if let token, let readOnlyToken, token == readOnlyToken {
            throw ConfigurationError(
                variable: "ADMIN_READONLY_TOKEN",
                problem: "must differ from ADMIN_TOKEN, or a login could not tell them apart")
        }
        sessionSeconds = try Self.integer(
            reader, "admin.session.seconds", "ADMIN_SESSION_SECONDS", default: sessionSeconds, in: 60...604_800)
        loginRateLimitPerMinute = try Self.integer(
            reader, "admin.login.rate.limit.per.minute", "ADMIN_LOGIN_RATE_LIMIT_PER_MINUTE",
            default: loginRateLimitPerMinute, in: 1...10_000)
    }

    private static func token(_ reader: ConfigReader, _ key: ConfigKey, _ variable: String) throws -> String? {
        guard let text = reader.string(forKey: key, isSecret: true)?.trimmingCharacters(in: .whitespaces),
            !text.isEmpty
        else { return nil }
        guard text.utf8.count <= 256, text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ConfigurationError(
                variable: variable,
                problem: "must be up to 256 printable ASCII characters without spaces (openssl rand -hex 32)")
        }
        return text
    }

    private static func integer(
        _ reader: ConfigReader, _ key: ConfigKey, _ variable: String, default value: Int, in range: ClosedRange<Int>
    ) throws -> Int {
        guard let text = reader.string(forKey: key)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            return value
        }
        guard let parsed = Int(text), range.contains(parsed) else {
            throw ConfigurationError(
                variable: variable,
                problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")")
        }
        return parsed
    }
}
