import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsSQLite
import StripeAppsServer

/// `simulate install`: plays the marketplace for a running backend.
struct SimulateInstall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Play the marketplace: follow /install, then send a correctly signed redirect to the callback.",
        discussion: """
            Opens BASE/install?mode=live (or test; with --app-user, with a ticket from POST /install/tickets), keeps its state cookie, signs {"state","user_id","account_id"} with the app secret \
            (--secret, else STRIPE_APP_SECRETS, else the development secret in DATABASE_URL) and calls the \
            redirect URI on BASE, as a browser coming back from Stripe would. Exits 1 unless the backend answers as \
            expected (an install completed, or with --cancel the cancelled page).
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "The backend's base URL, e.g. http://127.0.0.1:8080.")
    var to: String

    @Option(help: "The installing account.")
    var account: String = "acct_simulated"

    @Option(help: "The installing user.")
    var user: String = "usr_simulated"

    @Flag(help: "Install in test mode (adds livemode=false).")
    var test = false

    @Flag(help: "Simulate the user cancelling: error=access_denied and no state, as Stripe redirects then.")
    var cancel = false

    @Flag(
        help: ArgumentHelp(
            "Start from /install without a mode, as a plain install link does.",
            discussion:
                "By default the install starts with /install?mode=live (or test), so the backend records it at once; without a mode, a live install is recorded only when the signed account.application.authorized event arrives."
        ))
    var noMode = false

    @Option(
        help: ArgumentHelp(
            "Start with an install ticket for this user of your app, and redeem the link code at the end.",
            discussion: "Needs APP_SERVER_TOKEN (or --app-server-token) and INSTALL_CONFIRM_URL on the backend."))
    var appUser: String?

    @Option(help: "The backend's APP_SERVER_TOKEN, for --app-user; else APP_SERVER_TOKEN of this environment.")
    var appServerToken: String?

    @Option(name: .customLong("secret"), help: "An app signing secret.")
    var secrets: [String] = []

    func run() async throws {
        let base = URLComponentEncoding.withoutTrailingSlashes(to)
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        defer { _ = client.shutdown() }

        var startQuery = [URLQueryItem]()
        if !noMode { startQuery.append(.init(name: "mode", value: test ? "test" : "live")) }
        if let appUser {
            startQuery.append(.init(name: "ticket", value: try await issueTicket(base: base, appUser: appUser, client)))
        }
        var startURL = URLComponents()
        startURL.path = "/install"
        startURL.queryItems = startQuery.isEmpty ? nil : startQuery
        var start = HTTPClientRequest(url: base + (startURL.string ?? "/install"))
        start.method = .GET
        let started = try await client.send(start)
        guard started.status == .found, let location = started.headers.first(name: "Location"),
            let marketplace = URLComponents(string: location)
        else {
            print("GET /install answered \(started.status.code); expected a 302 to the marketplace.")
            throw ExitCode(1)
        }
        let shownStart = (startURL.string ?? "/install").replacingOccurrences(
            of: startQuery.first { $0.name == "ticket" }?.value ?? "\u{0}", with: "…")
        print("GET \(shownStart) -> 302 \(location)")
        let query = marketplace.queryItems ?? []
        guard let state = query.first(where: { $0.name == "state" })?.value,
            let redirectURI = query.first(where: { $0.name == "redirect_uri" })?.value,
            let redirect = URLComponents(string: redirectURI)
        else {
            print("The marketplace link has no state or redirect_uri.")
            throw ExitCode(1)
        }
        let cookie = started.headers["Set-Cookie"].first.map { String($0.prefix { $0 != ";" }) }

        var items: [URLQueryItem]
        if cancel {
            items = [
                .init(name: "error", value: "access_denied"),
                .init(name: "error_description", value: "The user denied your request"),
            ]
        } else {
            let signer = SignatureSigner(keyring: try await resolveAppKeyring(secrets: secrets, options: options))
            let payload = try InstallRedirectPayload(state: state, userID: user, accountID: account)
            items = [
                .init(name: "user_id", value: user), .init(name: "account_id", value: account),
                .init(name: "state", value: state),
                .init(name: "install_signature", value: signer.signatureHeader(for: payload.bytes).headerValue),
            ]
            if test { items.append(.init(name: "livemode", value: "false")) }
        }
        var callback = URLComponents()
        callback.path = redirect.path
        callback.queryItems = items
        // Percent-encode what URLQueryItem leaves alone but a query value must not contain.
        callback.percentEncodedQuery = callback.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        let callbackURL = base + (callback.string ?? "")
        var request = HTTPClientRequest(url: callbackURL)
        if let cookie { request.headers.add(name: "Cookie", value: cookie) }
        let answered = try await client.send(request)
        let body = String(buffer: try await answered.body.collect(upTo: 1 << 20))
        let code = body.range(of: "data-code=\"").map { String(body[$0.upperBound...].prefix { $0 != "\"" }) }
        print(
            "GET \(redirect.path) -> \(answered.status.code) \(answered.headers.first(name: "Location") ?? code ?? "")")
        // A cancelled install must end on the backend's "cancelled" page; any other install on a redirect or a page.
        let succeeded = cancel ? code == "install_cancelled" : (answered.status == .found || answered.status == .ok)
        guard succeeded else { throw ExitCode(1) }
        if let appUser, !cancel {
            guard let location = answered.headers.first(name: "Location"),
                let linkCode = URLComponents(string: location)?.queryItems?.first(where: { $0.name == "link_code" })?
                    .value
            else {
                print("The callback did not send the browser to INSTALL_CONFIRM_URL with a link_code.")
                throw ExitCode(1)
            }
            let (status, body) = try await post(
                base + "/install/links", ["link_code": linkCode, "app_user": appUser], client)
            print("POST /install/links -> \(status) \(body)")
            guard status == 200 else { throw ExitCode(1) }
        }
    }

    /// Asks the backend for an install ticket for `appUser`, as the app's own server would.
    private func issueTicket(base: String, appUser: String, _ client: HTTPClient) async throws -> String {
        let (status, body) = try await post(
            base + "/install/tickets", ["app_user": appUser, "mode": test ? "test" : "live"], client)
        print("POST /install/tickets -> \(status)")
        guard status == 201, let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let ticket = object["ticket"] as? String
        else {
            print(body)
            throw ExitCode(1)
        }
        return ticket
    }

    /// POSTs a JSON object with the app server token; returns the status and the body.
    private func post(_ url: String, _ fields: [String: String], _ client: HTTPClient) async throws -> (Int, String) {
        guard let token = try await resolvedAppServerToken() else {
            print("--app-user needs the backend's APP_SERVER_TOKEN: pass --app-server-token or set APP_SERVER_TOKEN.")
            throw ExitCode(1)
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(
            ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])))
        let response = try await client.send(request)
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 16)))
    }

    private func resolvedAppServerToken() async throws -> String? {
        if let appServerToken { return appServerToken }
        return try await options.read().appServerToken
    }
}

/// The app secret a simulation signs with: `--secret`, else the configured `STRIPE_APP_SECRETS`, else (only in
/// development mode) the development secret `serve` keeps in the database, which is read, never created. Says
/// on standard error which one it signs with, by label and fingerprint, never the value.
///
/// - Throws: `database_not_found` when there is no database where the configuration points, and
///   `no_signing_secret` when it holds no development secret (no `serve` in development mode ran on it).
func resolveAppKeyring(secrets: [String], options: ConfigurationOptions) async throws -> SigningKeyring {
    let keyring: SigningKeyring
    let source: String
    if !secrets.isEmpty {
        keyring = try SigningKeyring(secrets: secrets)
        source = "--secret"
    } else {
        let configuration = try await options.read()
        if let configured = configuration.appSecrets {
            keyring = configured
            source = "STRIPE_APP_SECRETS"
        } else {
            (keyring, source) = try await storedDevelopmentKeyring(
                key: developmentSecretKey, label: "development", secretName: "development secret",
                variable: "STRIPE_APP_SECRETS", configuration: configuration)
        }
    }
    announceSigning(with: keyring, from: source)
    return keyring
}

/// A development secret `serve` keeps in the database (under `key`), read and never created, as a keyring with
/// where it came from, for ``announceSigning(with:from:)``.
///
/// - Throws: `database_not_found` when there is no database where the configuration points, and
///   `no_signing_secret` when it holds no such secret (no `serve` in development mode ran on it).
func storedDevelopmentKeyring(
    key: String, label: String, secretName: String, variable: String, configuration: AppConfiguration
) async throws -> (keyring: SigningKeyring, source: String) {
    let stored = try await withConfiguredStorage(configuration) { storage in
        try await storage.metadata.value(forKey: key)
    }
    guard let stored else {
        throw CommandError(
            "no_signing_secret",
            """
            \(variable) is not set and the database at \(configuration.shownDatabaseURL) holds no \(secretName) \
            (`serve` creates one when it starts in development mode). Pass --secret, set \(variable), or point \
            --database-url or --config at the development server's database.
            """)
    }
    return (
        try SigningKeyring([SigningSecret(stored, label: label)]),
        "the \(secretName) in \(configuration.shownDatabaseURL)"
    )
}

/// Says on standard error which secrets sign (one `v1` each, as Stripe signs during a rotation): where they came
/// from, their labels and fingerprints; never a value.
func announceSigning(with keyring: SigningKeyring, from source: String) {
    let secrets = keyring.secrets.map { "\($0.label) sha256:\($0.fingerprint)…" }.joined(separator: ", ")
    FileHandle.standardError.write(Data("signing with \(source) (\(secrets))\n".utf8))
}
