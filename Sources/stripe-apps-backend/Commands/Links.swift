import ArgumentParser
import StripeApps

/// `links`: prints install links and deep links.
struct Links: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print install links and Dashboard deep links.",
        subcommands: [InstallLinkCommand.self, DeepLinkCommand.self]
    )
}

/// `links install`.
struct InstallLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Print an install link with redirect_uri and state added."
    )

    @Option(
        name: .customLong("install-link"), help: "The link copied from the Dashboard (External test or Settings tab).")
    var installLink: String?

    @Option(name: .customLong("app-id"), help: "The app id, for the OAuth form …/oauth/v2/authorize?client_id=….")
    var appID: String?

    @Option(name: .customLong("redirect-uri"), help: "Must exactly match one of allowed_redirect_uris.")
    var redirectURI: String?

    @Option(help: "The CSRF state (default: 32 random bytes in hex).")
    var state: String?

    func validate() throws {
        guard (installLink == nil) != (appID == nil) else {
            throw ValidationError("Pass exactly one of --install-link and --app-id.")
        }
    }

    func run() async throws {
        let link: InstallLink = installLink.map { .copied($0) } ?? .oauth(appID: appID ?? "")
        print(link.url(redirectURI: redirectURI, state: state ?? InstallState.newStateValue()))
    }
}

/// `links deep`.
struct DeepLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deep",
        abstract: "Print a Dashboard deep link that opens the app's view.",
        discussion: "Stripe's form: https://dashboard.stripe.com/ACCOUNT/[test/]PAGE?apps[APP_ID][TARGET]=VIEWPORT."
    )

    @Option(name: .customLong("app-id"), help: "The app id.")
    var appID: String

    @Option(help: "The account id (acct_…); not part of the legacy form, so refused with --legacy.")
    var account: String?

    @Option(help: "The Dashboard page, e.g. customers or customers/cus_123.")
    var page: String

    @Flag(help: "Test mode (default: live).")
    var test = false

    @Option(help: "drawer or modal.")
    var target: String = "drawer"

    @Option(help: "The viewport to open, e.g. onboarding, settings, stripe.dashboard.customer.detail.")
    var viewport: String = "onboarding"

    @Flag(help: "The legacy form …?open_drawer_app=APP_ID.")
    var legacy = false

    func validate() throws {
        if legacy {
            // The legacy form has no account in it: an --account given with it would be silently dropped.
            guard account == nil else {
                throw ValidationError("--legacy links open the signed-in account's Dashboard; drop --account.")
            }
        } else {
            guard let account else { throw ValidationError("--account is required (acct_…).") }
            guard StripeID.isValid(account, prefix: "acct_") else {
                throw ValidationError("--account must be an account id (acct_…).")
            }
        }
    }

    func run() async throws {
        guard let parsedTarget = DeepLink.Target(name: target) else {
            throw ValidationError("--target must be drawer or modal.")
        }
        let link = DeepLink(
            appID: appID,
            accountID: account ?? "",
            mode: test ? .test : .live,
            page: page,
            target: parsedTarget,
            viewport: viewport
        )
        print(legacy ? link.legacyURL : link.url)
    }
}
