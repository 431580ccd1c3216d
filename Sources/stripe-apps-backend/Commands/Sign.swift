import ArgumentParser
import StripeApps

/// `sign`: prints the `Stripe-Signature` value Stripe would send for a payload.
struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the Stripe-Signature header value for a payload (one v1 per secret).",
        discussion: """
            Either sign an exact payload with --payload, or let the command build the UI-extension payload \
            from --user, --account and optional --extra (a JSON object of extra values, kept in order): \
            {...extra, "user_id": U, "account_id": A}, as fetchStripeSignature does.
            """
    )

    @Option(name: .customLong("secret"), help: "A signing secret (repeat for rotation).")
    var secrets: [String] = []

    @Option(help: "The exact payload to sign.")
    var payload: String?

    @Option(help: "The Dashboard user id (usr_…) of a UI-extension payload.")
    var user: String?

    @Option(help: "The account id (acct_…) of a UI-extension payload.")
    var account: String?

    @Option(help: "Extra values of a UI-extension payload, as a JSON object, e.g. '{\"amount\":100}'.")
    var extra: String?

    @Option(help: "The Unix timestamp t to sign with (default: now).")
    var timestamp: Int64?

    func validate() throws {
        guard !secrets.isEmpty else { throw ValidationError("Pass at least one --secret.") }
        switch (payload, user, account) {
        case (.some, nil, nil):
            guard extra == nil else { throw ValidationError("--extra needs --user and --account, not --payload.") }
        case (nil, .some, .some): break
        default: throw ValidationError("Pass either --payload, or both --user and --account.")
        }
    }

    func run() async throws {
        do {
            let signer = SignatureSigner(keyring: try SigningKeyring(secrets: secrets))
            let bytes = try payloadBytes()
            print(signer.signatureHeader(for: bytes, timestamp: timestamp).headerValue)
        } catch {
            throw fail(with: error)
        }
    }

    private func payloadBytes() throws(SignatureError) -> [UInt8] {
        if let payload { return Array(payload.utf8) }
        var fields: [PayloadField] = []
        if let extra {
            guard case .object(let extraFields) = try PayloadValue.parse(extra) else {
                throw SignatureError(.invalidPayload, message: "--extra must be a JSON object.")
            }
            fields = extraFields
        }
        return try UIRequestPayload(userID: user ?? "", accountID: account ?? "", extra: fields).bytes
    }
}
