import Crypto
import Foundation
import StripeApps
import Synchronization

/// A logged-in admin session, as its cookie says.
struct AdminSession: Sendable, Hashable {
    /// What a session may do.
    struct Role: Sendable, Hashable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// Everything: read, replay, discard, cancel.
        public static let admin = Role("admin")
        /// Read only: every page, no action but logging out.
        public static let readOnly = Role("readonly")

        public var description: String { name }

        /// Reads `admin` or `readonly`.
        init?(name: String) {
            switch name {
            case "admin": self = .admin
            case "readonly": self = .readOnly
            default: return nil
            }
        }
    }

    /// Full or read-only.
    public let role: Role
    /// 32 random hex digits, new at each login.
    public let id: String
    /// When the session ends.
    public let expiresAt: Date

    /// Whether the session may only read.
    public var isReadOnly: Bool { role == .readOnly }

    /// How logs and audit records name the session: its role and the first 8 digits of its id, never a token.
    public var actor: String { "\(role) session \(id.prefix(8))" }
}

/// Logs admins in with `ADMIN_TOKEN` or `ADMIN_READONLY_TOKEN`, and reads the session cookies it issued.
///
/// A session is a signed cookie, `v1.<role>.<id>.<expiry>.<HMAC-SHA256>`, keyed by a secret derived from both
/// tokens: every instance that has the same tokens accepts it, with no shared session table, and changing either
/// token ends every session. Logging out clears the cookie and puts the session id on this instance's revocation
/// list until the session would have expired; other instances keep accepting a copy of the cookie until then,
/// which is why sessions are short (``AdminConfiguration/sessionSeconds``). Each session has its own CSRF token,
/// an HMAC of its id, so forms need no server state either. Every comparison of a secret is constant-time.
final class AdminSessions: Sendable {
    private let key: SymmetricKey
    private let token: String
    private let readOnlyToken: String?
    /// How long a session lasts.
    let lifetime: TimeInterval
    private let now: @Sendable () -> Date
    private let revoked = Mutex<[String: Date]>([:])
    /// The most revoked sessions remembered; past it, those that expire first are forgotten first.
    private let maximumRevoked = 10_000

    init(token: String, readOnlyToken: String?, lifetime: TimeInterval, now: @escaping @Sendable () -> Date) {
        self.token = token
        self.readOnlyToken = readOnlyToken
        self.lifetime = lifetime
        self.now = now
        let context = "stripe-apps-backend admin sessions v1\n" + (readOnlyToken ?? "")
        let derived = HMAC<SHA256>.authenticationCode(
            for: Array(context.utf8), using: SymmetricKey(data: Array(token.utf8)))
        key = SymmetricKey(data: Array(derived))
    }

    /// The role `presented` logs in as, or `nil`. Both tokens are compared, in constant time, whatever matches.
    func role(forToken presented: String) -> AdminSession.Role? {
        let isAdmin = ConstantTime.isEqual(presented, token)
        let isReadOnly = readOnlyToken.map { ConstantTime.isEqual(presented, $0) } ?? false
        if isAdmin { return .admin }
        return isReadOnly ? .readOnly : nil
    }

    /// A new session of `role` and its cookie value.
    func open(_ role: AdminSession.Role) -> (session: AdminSession, cookie: String) {
        var generator = SystemRandomNumberGenerator()
        let id = Self.hex((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let expiresAt = Date(timeIntervalSince1970: (now().timeIntervalSince1970 + lifetime).rounded(.down))
        let session = AdminSession(role: role, id: id, expiresAt: expiresAt)
        let body = "v1.\(role).\(id).\(Int64(expiresAt.timeIntervalSince1970))"
        return (session, body + "." + mac(body))
    }

    /// The session a cookie value stands for: signed by this key, not expired, not logged out here; else `nil`.
    func session(fromCookie cookie: String) -> AdminSession? {
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "v1", cookie.utf8.count < 200 else { return nil }
        let body = parts[0..<4].joined(separator: ".")
        guard ConstantTime.isEqual(mac(body), String(parts[4])) else { return nil }
        guard let role = AdminSession.Role(name: String(parts[1])), let expiry = Int64(parts[3]) else { return nil }
        let session = AdminSession(
            role: role, id: String(parts[2]), expiresAt: Date(timeIntervalSince1970: TimeInterval(expiry)))
        let now = now()
        guard session.expiresAt > now else { return nil }
        let isRevoked = revoked.withLock { $0[session.id].map { $0 > now } ?? false }
        return isRevoked ? nil : session
    }

    /// The CSRF token of a session's forms.
    func csrfToken(for session: AdminSession) -> String {
        mac("csrf." + session.id)
    }

    /// Whether `presented` is the CSRF token of `session` (constant-time).
    func isValidCSRFToken(_ presented: String?, for session: AdminSession) -> Bool {
        guard let presented else { return false }
        return ConstantTime.isEqual(presented, csrfToken(for: session))
    }

    /// Refuses the session on this instance from now until it would have expired.
    func revoke(_ session: AdminSession) {
        let now = now()
        revoked.withLock { revoked in
            revoked = revoked.filter { $0.value > now }
            if revoked.count >= maximumRevoked, let first = revoked.min(by: { $0.value < $1.value }) {
                revoked[first.key] = nil
            }
            revoked[session.id] = session.expiresAt
        }
    }

    private func mac(_ text: String) -> String {
        Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)))
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
