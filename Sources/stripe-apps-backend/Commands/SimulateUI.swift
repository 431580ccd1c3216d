import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsSQLite
import StripeAppsServer

/// `simulate`: sends correctly signed traffic to a running backend.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send signed traffic to a running backend, as Stripe would.",
        subcommands: [SimulateUI.self, SimulateInstall.self, SimulateEvent.self]
    )
}

/// `simulate ui`: a signed UI-extension call.
struct SimulateUI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Send a request signed like fetchStripeSignature to a UI route.",
        discussion: """
            The secret is --secret, else STRIPE_APP_SECRETS, else the development secret that `serve` keeps in the \
            database in development mode (read, never created: run serve first, and point --database-url or \
            --config at its database from another folder). Says on standard error which secret signed (label and \
            fingerprint). Prints the status and the response body; exits 1 unless 2xx.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "The full URL, e.g. http://127.0.0.1:8080/api/whoami.")
    var to: String

    @Option(help: "POST (the signed JSON is the body) or GET/DELETE (ids in headers).")
    var method: String = "POST"

    @Option(help: "The account id.")
    var account: String = "acct_dev"

    @Option(help: "The user id.")
    var user: String = "usr_dev"

    @Option(help: "live or test; signed as the extra value mode.")
    var mode: String?

    @Option(help: "Extra values as a JSON object, e.g. '{\"version\":0,\"theme\":\"dark\"}'.")
    var extra: String?

    @Option(name: .customLong("secret"), help: "An app signing secret (repeat for several).")
    var secrets: [String] = []

    func run() async throws {
        let keyring = try await resolveAppKeyring(secrets: secrets, options: options)
        var fields: [PayloadField] = []
        if let mode {
            guard Tenant.Mode(mode) != nil else { throw ValidationError("--mode must be live or test.") }
            fields.append(PayloadField("mode", .string(mode)))
        }
        if let extra {
            guard case .object(let extraFields) = try PayloadValue.parse(extra) else {
                throw ValidationError("--extra must be a JSON object.")
            }
            fields += extraFields
        }
        let payload = try UIRequestPayload(userID: user, accountID: account, extra: fields)
        let header = SignatureSigner(keyring: keyring).signatureHeader(for: payload.bytes).headerValue

        var request = HTTPClientRequest(url: to)
        request.method = HTTPMethod(rawValue: method.uppercased())
        request.headers.add(name: "Stripe-Signature", value: header)
        if ["GET", "DELETE", "HEAD"].contains(method.uppercased()) {
            request.headers.add(name: "Stripe-User-Id", value: user)
            request.headers.add(name: "Stripe-Account-Id", value: account)
            if let mode { request.headers.add(name: "Stripe-Mode", value: mode) }
        } else {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: payload.bytes))
        }
        let response = try await HTTPClient.shared.send(request)
        let body = try await response.body.collect(upTo: 4 << 20)
        print("HTTP \(response.status.code)")
        print(String(buffer: body))
        guard (200..<300).contains(response.status.code) else { throw ExitCode(1) }
    }
}
