import ArgumentParser
import Foundation
import StripeApps

/// `verify`: checks a payload against a `Stripe-Signature` value, offline, and with `--explain` says why it fails.
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a payload against a Stripe-Signature header value, and explain a failure.",
        discussion: """
            Prints 'valid' and exits 0, or prints '<code>: <message>' on standard error and exits 1. With --explain, \
            standard output also gets the code (or 'valid') on its first line, then what is wrong in plain words: \
            the kind of each secret, the header's shape, how far the timestamp is outside the window, and which \
            payload Stripe signed when it differs from the one given (key order, missing ids, extra keys, a mode not \
            signed, re-serialized JSON). Secrets are shown only as kind and fingerprint. Exits 2, with \
            'unreadable_file' or 'invalid_request_file', when an input file cannot be read.

            The payload is one of: --payload (the exact bytes), --payload-file, --request (a raw HTTP request saved \
            to a file: the header, body or identity headers are read from it as the server reads them), or --user \
            and --account with optional --extra (the values the extension passed to fetchStripeSignature). With \
            --payload, --user and --account name ids the payload may lack.
            """
    )

    @Option(name: .customLong("secret"), help: "A signing secret (repeat for every active secret).")
    var secrets: [String] = []

    @Option(help: "The exact payload that was signed.")
    var payload: String?

    @Option(name: .customLong("payload-file"), help: "A file holding the exact payload, every byte of it.")
    var payloadFile: String?

    @Option(name: .customLong("request"), help: "A raw HTTP request saved to a file (request line, headers, body).")
    var requestFile: String?

    @Option(help: "The Dashboard user id (usr_…) the extension signed.")
    var user: String?

    @Option(help: "The account id (acct_…) the extension signed.")
    var account: String?

    @Option(help: "Extra values the extension signed, as a JSON object in their order, e.g. '{\"mode\":\"test\"}'.")
    var extra: String?

    @Option(help: "The Stripe-Signature header value (read from --request when omitted).")
    var header: String?

    @Option(help: "The time window either side of now, in seconds (at least 1).")
    var tolerance: Int64 = SignatureTolerance.default.seconds

    @Option(help: "The Unix time to verify at (default: the current time).")
    var now: Int64?

    @Flag(help: "Explain what is wrong, in plain words, on standard output.")
    var explain = false

    @Option(help: "What the signature is for: ui, webhook or install (default: inferred from the payload).")
    var purpose: String?

    @Option(help: "The --explain output: text or json.")
    var format = "text"

    func validate() throws {
        guard !secrets.isEmpty else { throw ValidationError("Pass at least one --secret.") }
        let sources = [payload, payloadFile, requestFile].compactMap { $0 }.count
        guard sources <= 1 else { throw ValidationError("Pass only one of --payload, --payload-file and --request.") }
        if sources == 0 {
            guard user != nil, account != nil else {
                throw ValidationError("Pass --payload, --payload-file, --request, or both --user and --account.")
            }
        } else if extra != nil {
            throw ValidationError("--extra builds a payload from --user and --account; it does not go with --payload.")
        }
        guard header != nil || requestFile != nil else { throw ValidationError("Pass --header (or --request).") }
        if let purpose, Self.purposes[purpose] == nil {
            throw ValidationError("--purpose must be ui, webhook or install.")
        }
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json.") }
    }

    static let purposes: [String: SignatureDiagnosis.Purpose] = [
        "ui": .uiRequest, "webhook": .webhook, "install": .installRedirect,
    ]

    func run() async throws {
        let input: Input
        do {
            input = try readInput()
        } catch let failure as InputFailure {
            throw fail(code: failure.code, message: failure.message, exitCode: 2)
        } catch let error as SignatureError {
            throw fail(with: error)
        }
        let fixedNow = now.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
        do {
            if explain {
                let diagnosis = SignatureDiagnosis(
                    secrets: secrets, header: input.header, payload: input.payload,
                    options: .init(
                        purpose: purpose.flatMap { Self.purposes[$0] } ?? input.purpose, userID: input.userID,
                        accountID: input.accountID, tolerance: try SignatureTolerance(seconds: tolerance),
                        now: fixedNow))
                print(format == "json" ? Self.json(diagnosis) : Self.text(diagnosis, given: input.payload))
            }
            let verifier = SignatureVerifier(
                keyring: try SigningKeyring(secrets: secrets),
                tolerance: try SignatureTolerance(seconds: tolerance),
                now: { fixedNow }
            )
            _ = try verifier.verify(payload: input.payload, header: input.header)
            if !explain { print("valid") }
        } catch {
            throw fail(with: error)
        }
    }

    /// What to verify, from whichever options were given.
    struct Input {
        var header: String?
        var payload: [UInt8]
        var purpose: SignatureDiagnosis.Purpose?
        var userID: String?
        var accountID: String?
    }

    /// An input that cannot be read: exit 2 with a stable code.
    struct InputFailure: Error {
        let code: String
        let message: String
    }

    private func readInput() throws -> Input {
        if let requestFile {
            let request: CapturedRequest
            do {
                request = try CapturedRequest(parsing: try read(requestFile))
            } catch let error as CapturedRequest.ParseError {
                throw InputFailure(
                    code: "invalid_request_file", message: "\(requestFile.prefix(200)): \(error.message)")
            }
            let signed = request.signed
            return Input(
                header: header ?? signed.header, payload: signed.payload, purpose: signed.purpose,
                userID: user ?? signed.userID, accountID: account ?? signed.accountID)
        }
        if let payloadFile {
            return Input(header: header, payload: try read(payloadFile), userID: user, accountID: account)
        }
        if let payload {
            return Input(header: header, payload: Array(payload.utf8), userID: user, accountID: account)
        }
        var fields: [PayloadField] = []
        if let extra {
            guard case .object(let extraFields) = try PayloadValue.parse(extra) else {
                throw SignatureError(.invalidPayload, message: "--extra must be a JSON object.")
            }
            fields = extraFields
        }
        let built = try UIRequestPayload(userID: user ?? "", accountID: account ?? "", extra: fields)
        return Input(header: header, payload: built.bytes, purpose: .uiRequest, userID: user, accountID: account)
    }

    private func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputFailure(code: "unreadable_file", message: "\(path.prefix(200)) cannot be read.")
        }
        return Array(data)
    }

    /// The code (or `valid`), the summary, one line per other finding, and the payload Stripe signed when it differs.
    static func text(_ diagnosis: SignatureDiagnosis, given: [UInt8]) -> String {
        var lines = [diagnosis.code.map { "\($0)" } ?? "valid", diagnosis.summary]
        lines += diagnosis.details.map { "  - \($0)" }
        if let signed = diagnosis.signedPayload, signed != given {
            lines.append("Stripe signed: " + String(decoding: signed, as: UTF8.self))
        }
        return lines.joined(separator: "\n")
    }

    /// The diagnosis as one JSON object.
    static func json(_ diagnosis: SignatureDiagnosis) -> String {
        func string(_ value: String?) -> PayloadValue { value.map(PayloadValue.string) ?? .null }
        let findings = diagnosis.findings.map {
            PayloadValue.object([
                PayloadField("code", .string("\($0.code)")), PayloadField("severity", .string("\($0.severity)")),
                PayloadField("message", .string($0.message)),
            ])
        }
        return PayloadValue.object([
            PayloadField("code", string(diagnosis.code.map { "\($0)" })),
            PayloadField("valid", .bool(diagnosis.isValid)),
            PayloadField("purpose", string(diagnosis.purpose.map { "\($0)" })),
            PayloadField("summary", .string(diagnosis.summary)),
            PayloadField("findings", .array(findings)),
            PayloadField("signed_payload", string(diagnosis.signedPayload.map { String(decoding: $0, as: UTF8.self) })),
            PayloadField("matching_secret", string(diagnosis.matchingSecret)),
            PayloadField("timestamp_offset", diagnosis.timestampOffset.map { .number(Double($0)) } ?? .null),
        ]).jsonString
    }
}
