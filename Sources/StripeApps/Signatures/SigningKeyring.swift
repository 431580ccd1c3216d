/// The secrets that are active for one purpose: the app signing secret(s), or one webhook endpoint's secrets.
///
/// While a secret is being rotated, Stripe signs every message once per active secret, for up to 24 hours,
/// and puts one `v1` per secret in the header. A verifier that holds the old and the new secret accepts
/// both kinds of header, and ``VerifiedSignature`` reports which secret matched, so an operator can
/// see when the old one is no longer used and remove it.
public struct SigningKeyring: Sendable, CustomStringConvertible {
    /// The active secrets, in the order they were configured.
    public let secrets: [SigningSecret]

    /// Creates a keyring.
    ///
    /// - Parameter secrets: At least one secret.
    /// - Throws: ``SignatureError/Code/emptySecret`` when `secrets` is empty.
    public init(_ secrets: [SigningSecret]) throws(SignatureError) {
        guard !secrets.isEmpty else { throw SignatureError(.emptySecret) }
        self.secrets = secrets
    }

    /// Creates a keyring from secret strings, labelled by their position (`#0`, `#1`, …).
    ///
    /// - Parameter secrets: The secrets exactly as Stripe shows them; none may be empty.
    /// - Throws: ``SignatureError/Code/emptySecret`` when the list or one of the strings is empty.
    public init(secrets: [String]) throws(SignatureError) {
        var built: [SigningSecret] = []
        for (index, secret) in secrets.enumerated() {
            built.append(try SigningSecret(secret, label: "#\(index)"))
        }
        try self.init(built)
    }

    /// Creates a keyring from a comma-separated configuration value such as `STRIPE_APP_SECRETS`.
    ///
    /// Whitespace around each entry (a newline pasted into an environment file, a space after a comma) is
    /// removed and empty entries are skipped; use ``SigningSecret/hasSurroundingWhitespace`` on individual
    /// secrets when you want to warn about it instead.
    ///
    /// - Parameter value: For example `absec_new,absec_old`.
    /// - Throws: ``SignatureError/Code/emptySecret`` when no secret remains.
    public init(commaSeparated value: String) throws(SignatureError) {
        let entries = value.split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
        try self.init(secrets: entries)
    }

    public var description: String {
        "SigningKeyring(\(secrets.map(\.description).joined(separator: ", ")))"
    }
}

extension Substring {
    fileprivate func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
