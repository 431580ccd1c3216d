import Foundation
import StripeApps

/// Everything a ``FakeStripe`` remembers; guarded by its mutex, so every method runs atomically.
struct FakeStripeState: Sendable {
    /// Accounts connected to the platform; they exist in both modes.
    var connectedAccounts: Set<String> = []
    /// The data of each account in each mode.
    var ledgers: [Tenant: FakeStripeLedger] = [:]
    /// Restricted keys and what they act on.
    var restrictedKeys: [String: Tenant] = [:]
    /// OAuth access tokens.
    var accessTokens: [String: AccessToken] = [:]
    /// OAuth refresh tokens that still work.
    var refreshTokens: [String: RefreshGrant] = [:]
    /// OAuth authorization codes, used or not.
    var authorizationCodes: [String: AuthorizationCode] = [:]
    /// Faults waiting for a matching request, first in first out.
    var faults: [QueuedFault] = []
    /// Every request, in arrival order.
    var requests: [FakeStripe.RecordedRequest] = []
    /// Successful refresh-token grants per account.
    var refreshCounts: [String: Int] = [:]
    /// The insertion counter that orders objects created in the same second.
    var sequence = 0

    /// An access token's account, mode and end of life.
    struct AccessToken: Sendable {
        var tenant: Tenant
        var expiresAt: Date
        /// The authorization code the grant descends from, so reusing that code revokes it.
        var code: String
    }

    /// A refresh token's account and mode.
    struct RefreshGrant: Sendable {
        var tenant: Tenant
        var code: String
    }

    /// An authorization code: single use, short-lived.
    struct AuthorizationCode: Sendable {
        var tenant: Tenant
        var expiresAt: Date
        var isUsed = false
    }

    /// A fault and which requests it applies to.
    struct QueuedFault: Sendable {
        var fault: FakeStripe.Fault
        var path: String?
        var method: String?

        func matches(method: String, path: String) -> Bool {
            if let expected = self.method, expected.uppercased() != method.uppercased() { return false }
            guard let expected = self.path else { return true }
            if expected.hasSuffix("*") { return path.hasPrefix(expected.dropLast()) }
            return expected == path
        }
    }

    /// The next value of the insertion counter.
    mutating func nextSequence() -> Int {
        sequence += 1
        return sequence
    }

    /// Removes and returns the first queued fault matching the request.
    mutating func takeFault(method: String, path: String) -> FakeStripe.Fault? {
        guard let index = faults.firstIndex(where: { $0.matches(method: method, path: path) }) else { return nil }
        return faults.remove(at: index).fault
    }

    /// Resolves a key against the platform keys, restricted keys and access tokens.
    func credential(for key: String?, settings: FakeStripeSettings, now: Date) -> FakeStripeCredential {
        guard let key, !key.isEmpty else { return .missing }
        let masked = FakeStripeIdentifiers.mask(key)
        if key == settings.testSecretKey { return .platform(.test, masked: masked) }
        if key == settings.liveSecretKey { return .platform(.live, masked: masked) }
        if let tenant = restrictedKeys[key] { return .restricted(tenant, masked: masked) }
        if let token = accessTokens[key] {
            return .oauth(token.tenant, expired: token.expiresAt <= now, masked: masked)
        }
        return .invalid(masked: masked)
    }

    /// The account a request acts on, from its credential and `Stripe-Account` header; throws 401 and 403.
    func tenant(
        for credential: FakeStripeCredential,
        stripeAccount: String?,
        settings: FakeStripeSettings
    ) throws(FakeStripeError) -> Tenant {
        let own: Tenant
        let mayActForConnectedAccounts: Bool
        switch credential {
        case .missing:
            throw .api(
                status: 401,
                type: "invalid_request_error",
                message: "You did not provide an API key. You need to provide your API key in the Authorization "
                    + "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
                    + "https://stripe.com/docs/api#authentication for details, or we can help at "
                    + "https://support.stripe.com/.",
                isStored: false
            )
        case .invalid(let masked):
            throw .api(
                status: 401,
                type: "invalid_request_error",
                message: "Invalid API Key provided: \(masked)",
                isStored: false
            )
        case .oauth(_, true, let masked):
            throw .api(
                status: 401,
                type: "invalid_request_error",
                code: "api_key_expired",
                message: "Expired API Key provided: \(masked). Access tokens expire; refresh it with your "
                    + "refresh token.",
                isStored: false
            )
        case .platform(let mode, _):
            own = settings.platform(mode)
            mayActForConnectedAccounts = true
        case .restricted(let tenant, _), .oauth(let tenant, false, _):
            own = tenant
            mayActForConnectedAccounts = false
        }
        guard let stripeAccount, !stripeAccount.isEmpty, stripeAccount != own.accountID else { return own }
        guard mayActForConnectedAccounts, connectedAccounts.contains(stripeAccount) else {
            throw .api(
                status: 403,
                type: "invalid_request_error",
                code: "account_invalid",
                message: "The provided key '\(credential.masked)' does not have access to account '\(stripeAccount)' "
                    + "(or that account does not exist). Application access may have been revoked.",
                param: nil,
                isStored: false
            )
        }
        return Tenant(accountID: stripeAccount, mode: own.mode)
    }
}
