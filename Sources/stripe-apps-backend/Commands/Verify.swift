import ArgumentParser
import Foundation
import StripeApps

/// `verify`: checks a payload against a `Stripe-Signature` value, offline.
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a payload against a Stripe-Signature header value.",
        discussion: "Prints 'valid' and exits 0, or prints the error code on standard error and exits 1."
    )

    @Option(name: .customLong("secret"), help: "A signing secret (repeat for every active secret).")
    var secrets: [String] = []

    @Option(help: "The exact payload that was signed.")
    var payload: String

    @Option(help: "The Stripe-Signature header value.")
    var header: String

    @Option(help: "The time window either side of now, in seconds (at least 1).")
    var tolerance: Int64 = SignatureTolerance.default.seconds

    @Option(help: "The Unix time to verify at (default: the current time).")
    var now: Int64?

    func validate() throws {
        guard !secrets.isEmpty else { throw ValidationError("Pass at least one --secret.") }
    }

    func run() async throws {
        do {
            let fixedNow = now.map { Date(timeIntervalSince1970: TimeInterval($0)) }
            let verifier = SignatureVerifier(
                keyring: try SigningKeyring(secrets: secrets),
                tolerance: try SignatureTolerance(seconds: tolerance),
                now: { fixedNow ?? Date() }
            )
            _ = try verifier.verify(payload: Array(payload.utf8), header: header)
            print("valid")
        } catch {
            throw fail(with: error)
        }
    }
}
