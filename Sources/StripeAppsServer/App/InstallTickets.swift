public import Foundation
import HTTPTypes
public import StripeApps

/// Links installs to the users of the app's own product in a way an attacker cannot forge.
///
/// An install link is opened by an anonymous browser, so nothing in its URL can say whose install it is: an
/// attacker could send a victim a link naming the attacker's user, and the victim's Stripe account would be
/// linked to the attacker. Instead:
///
/// 1. The app's server, for a user logged in there, asks for a one-time **ticket** (``issue(appUser:mode:)``, or
///    `POST /install/tickets` with `APP_SERVER_TOKEN`) and sends the user to `/install?ticket=…`.
/// 2. `/install` consumes the ticket and keeps the app user with the install's state, server side.
/// 3. After the install, the callback sends the browser to `INSTALL_CONFIRM_URL?link_code=…`, a one-time code.
/// 4. The app's server redeems the code with the user logged in **now** (``redeem(linkCode:appUser:)``, or
///    `POST /install/links`): the link is confirmed only if that is the user the ticket was issued for. A ticket
///    followed in another user's browser links nothing.
///
/// Tickets, states and link codes are stored as SHA-256 hashes only, and each works once.
public struct InstallTickets<States: InstallStateStore, Installations: InstallationStore>: Sendable {
    let states: States
    let installations: Installations
    let configuration: AppConfiguration
    let now: @Sendable () -> Date
    /// The backend's public base URL, which the install URL of a ticket starts with (`PUBLIC_URL`; in development
    /// mode, the local address).
    var publicURL: @Sendable () -> String?

    /// The longest app user value, in bytes.
    public static var maximumAppUserBytes: Int { 256 }

    /// Creates the ticket office over the storage's install states and installations.
    public init(
        states: States,
        installations: Installations,
        configuration: AppConfiguration,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.states = states
        self.installations = installations
        self.configuration = configuration
        self.now = now
        publicURL = { configuration.publicURL }
    }

    /// Issues a one-time install ticket for `appUser`, the user logged in to the app's own product.
    ///
    /// - Parameters:
    ///   - appUser: The app's id of its user: 1 to 256 bytes, no control characters. Kept server side only.
    ///   - mode: The mode the install is for, when the app knows it; the callback then refuses a redirect that
    ///     says otherwise, and records the install at once.
    /// - Throws: ``APIError`` 400 `invalid_app_user`, 503 `install_confirm_url_not_configured` without
    ///   `INSTALL_CONFIRM_URL` (the link code would have nowhere to go).
    public func issue(appUser: String, mode: Tenant.Mode? = nil) async throws -> IssuedInstallTicket {
        try Self.validate(appUser: appUser)
        guard configuration.install.confirmURL != nil else {
            throw APIError(
                .serviceUnavailable, code: "install_confirm_url_not_configured",
                message: "Set INSTALL_CONFIRM_URL: the page of your app an install with a ticket returns to.")
        }
        let ticket = InstallState.newStateValue()
        let issuedAt = now()
        let expiresAt = issuedAt.addingTimeInterval(configuration.install.ticketLifetime)
        try await states.save(
            InstallState(
                stateHash: InstallState.hash(of: ticket), kind: .ticket, appValue: appUser, mode: mode,
                createdAt: issuedAt, expiresAt: expiresAt))
        let base = publicURL().map(URLComponentEncoding.withoutTrailingSlashes)
        return IssuedInstallTicket(
            ticket: ticket, installURL: base.map { "\($0)/install?ticket=\(ticket)" }, expiresAt: expiresAt)
    }

    /// Redeems a link code for `appUser`, the user logged in to the app's product at this moment.
    ///
    /// The code is consumed whatever the outcome, so a code that reached the wrong browser cannot be tried again.
    ///
    /// - Throws: ``APIError`` 400 `invalid_link_code` / `invalid_app_user`, 404 `link_code_expired_or_used`, 403
    ///   `app_user_mismatch` when the ticket was issued for another user (nothing is linked).
    public func redeem(linkCode: String, appUser: String) async throws -> ConfirmedInstallLink {
        try Self.validate(appUser: appUser)
        guard InstallState.isWellFormed(linkCode) else {
            throw APIError.badRequest("invalid_link_code", "A link code is 64 lowercase hex digits.")
        }
        guard let record = try await states.consume(.linkCode, hash: InstallState.hash(of: linkCode), now: now()),
            let tenant = record.tenant, let ticketUser = record.appValue
        else {
            throw APIError(
                .notFound, code: "link_code_expired_or_used",
                message: "This link code was already redeemed, has expired or was never issued.")
        }
        guard ConstantTime.isEqual(ticketUser, appUser) else {
            throw APIError(
                .forbidden, code: "app_user_mismatch",
                message:
                    "The install ticket was issued for another user than the one logged in now: nothing was linked.")
        }
        let installation = try await installations.installation(for: tenant)
        return ConfirmedInstallLink(
            tenant: tenant, userID: record.userID, appUser: appUser, isInstalled: installation?.status == .active)
    }

    static func validate(appUser: String) throws(APIError) {
        guard !appUser.isEmpty, appUser.utf8.count <= maximumAppUserBytes,
            !appUser.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw APIError.badRequest(
                "invalid_app_user", "app_user must be 1 to \(maximumAppUserBytes) bytes without control characters.")
        }
    }
}

/// A ticket ``InstallTickets/issue(appUser:mode:)`` made.
public struct IssuedInstallTicket: Sendable, Hashable {
    /// The ticket: 64 lowercase hex digits, accepted once by `/install?ticket=…`.
    public let ticket: String
    /// `PUBLIC_URL/install?ticket=…`, when `PUBLIC_URL` is set.
    public let installURL: String?
    /// When the ticket stops being accepted.
    public let expiresAt: Date
}

/// A link between an install and a user of the app's product, confirmed by ``InstallTickets/redeem(linkCode:appUser:)``.
public struct ConfirmedInstallLink: Sendable, Hashable {
    /// Where the app was installed.
    public let tenant: Tenant
    /// The Stripe user who installed it; `nil` for OAuth apps.
    public let userID: String?
    /// The app's user, the same one the ticket was issued for.
    public let appUser: String
    /// Whether the tenant's installation is active now. `false` for a live install started without a mode
    /// until Stripe's signed `account.application.authorized` event has confirmed it (seconds, usually).
    public let isInstalled: Bool
}
