import NIOHTTP1
public import StripeApps
import Synchronization

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Tokens of an OAuth app (`stripe_api_access_type: oauth`): exchanges the install callback's `code`, keeps
/// each tenant's tokens encrypted at rest, and refreshes them before they expire.
///
/// ```swift
/// let tokens = OAuthTokens(api: stripe, credentials: TenantCredentials(store: store, cipher: cipher))
/// let grant = try await tokens.exchange(code: code, mode: .test)   // at the install callback
/// let client = try await tokens.client(for: grant.tenant)           // later, anywhere
/// ```
///
/// Access tokens last an hour and every refresh rolls the refresh token (the old one stops working), so:
/// - a refresh happens once per tenant however many calls need it at the same time (single flight);
/// - the new tokens are written with a compare-and-swap on the stored version: when another instance
///   refreshed first, its tokens win and are used instead of overwriting them with a now-dead refresh token;
/// - refreshing authenticates with the developer's secret key of the tenant's mode, never with a token.
public final class OAuthTokens: Sendable {
    /// The name tokens are stored under in ``TenantCredentials``.
    public static let credentialName = "stripe.oauth"

    private let api: StripeAPI
    private let credentials: TenantCredentials
    private let refreshMargin: TimeInterval
    private let now: @Sendable () -> Date
    private let inFlight = Mutex<[Tenant: Task<OAuthGrant, any Error>]>([:])

    /// Creates the token keeper.
    ///
    /// - Parameters:
    ///   - api: Its secret keys authenticate exchanges and refreshes.
    ///   - credentials: Where tokens are kept, encrypted.
    ///   - refreshMargin: How long before expiry a token is refreshed.
    ///   - now: The clock.
    public init(
        api: StripeAPI,
        credentials: TenantCredentials,
        refreshMargin: Duration = .seconds(300),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.api = api
        self.credentials = credentials
        self.refreshMargin = TimeInterval(refreshMargin.components.seconds)
        self.now = now
    }

    /// Exchanges the `code` of an install callback (single use, valid 5 minutes) and stores the tokens.
    ///
    /// `mode` is the mode the install link was for (pass it through the `state`, as Stripe advises); the
    /// secret key of that mode authenticates the exchange, and an answer for the other mode is refused.
    public func exchange(code: String, mode: Tenant.Mode) async throws -> OAuthGrant {
        guard code.hasPrefix("ac_"), code.count <= 255 else {
            throw StripeAPIError(.invalidCall, message: "An authorization code looks like ac_….")
        }
        let grant = try await requestToken(
            ["grant_type": "authorization_code", "code": .string(code)],
            mode: mode
        )
        _ = try await credentials.save(
            try encode(grant), named: Self.credentialName, for: grant.tenant, expectedVersion: nil)
        return grant
    }

    /// The stored grant of a tenant, or `nil` when the app was not authorized there (or was uninstalled).
    public func grant(for tenant: Tenant) async throws -> OAuthGrant? {
        try await stored(tenant)?.grant
    }

    /// A client for `tenant` with an access token valid for at least the refresh margin.
    ///
    /// Throws ``StripeAPIError/Code/missingCredential`` when the tenant has no tokens.
    public func client(for tenant: Tenant) async throws -> StripeClient {
        let grant = try await freshGrant(for: tenant)
        return try api.client(
            for: tenant, oauthAccessToken: APICredential(oauthAccessToken: grant.accessToken, mode: tenant.mode))
    }

    /// Refreshes the tenant's tokens now, or joins the refresh already running.
    @discardableResult
    public func refresh(_ tenant: Tenant) async throws -> OAuthGrant {
        try await singleFlightRefresh(tenant, force: true)
    }

    private func freshGrant(for tenant: Tenant) async throws -> OAuthGrant {
        guard let current = try await stored(tenant) else {
            throw StripeAPIError(.missingCredential, message: "No OAuth tokens are stored for \(tenant).")
        }
        if isFresh(current.grant) { return current.grant }
        return try await singleFlightRefresh(tenant, force: false)
    }

    private func singleFlightRefresh(_ tenant: Tenant, force: Bool) async throws -> OAuthGrant {
        let task = inFlight.withLock { running in
            if let task = running[tenant] { return task }
            let task = Task { try await self.performRefresh(tenant, force: force) }
            running[tenant] = task
            return task
        }
        defer { inFlight.withLock { running in if running[tenant] == task { running[tenant] = nil } } }
        return try await task.value
    }

    private func performRefresh(_ tenant: Tenant, force: Bool) async throws -> OAuthGrant {
        guard let current = try await stored(tenant) else {
            throw StripeAPIError(.missingCredential, message: "No OAuth tokens are stored for \(tenant).")
        }
        // Another caller (or instance) may have refreshed while this one waited.
        if !force, isFresh(current.grant) { return current.grant }
        let grant: OAuthGrant
        let observer = api.configuration.observer
        do {
            grant = try await requestToken(
                ["grant_type": "refresh_token", "refresh_token": .string(current.grant.refreshToken)],
                mode: tenant.mode
            )
            observer.oauthRefreshEnded(true)
        } catch let error as StripeAPIError where error.code == .oauth {
            observer.oauthRefreshEnded(false)
            // Another instance rolled the refresh token first and stored the new one: use its tokens.
            // (A newer version with the same tokens is only a rewrite, such as a reseal, not a refresh.)
            if let newer = try await stored(tenant), newer.grant != current.grant { return newer.grant }
            throw error
        } catch {
            observer.oauthRefreshEnded(false)
            throw error
        }
        guard grant.tenant == tenant else {
            throw StripeAPIError(.tenantMismatch, message: "The refreshed tokens are for another account or mode.")
        }
        var expectedVersion = current.version
        for attempt in 1...Self.storeAttempts {
            do {
                _ = try await credentials.save(
                    try encode(grant),
                    named: Self.credentialName,
                    for: tenant,
                    expectedVersion: expectedVersion
                )
                return grant
            } catch let error as StoreError where error.code == .versionConflict {
                guard let winner = try await stored(tenant) else { throw error }
                // Another instance refreshed and stored first: its refresh token is the live one.
                guard winner.grant == current.grant else { return winner.grant }
                // The same tokens were only rewritten (`credentials reseal` after a key rotation): ours are newer,
                // and the refresh token that was stored no longer works, so they must not be dropped.
                guard attempt < Self.storeAttempts else { throw error }
                expectedVersion = winner.version
            }
        }
        preconditionFailure("The loop returns or throws.")
    }

    /// How many times refreshed tokens are written when the stored ones were only rewritten meanwhile.
    private static let storeAttempts = 4

    private func requestToken(_ parameters: FormParameters, mode: Tenant.Mode) async throws -> OAuthGrant {
        let key = try api.secretKey(for: mode)
        let response = try await api.transport.send(
            StripeTransport.Call(
                method: .POST,
                path: "/v1/oauth/token",
                parameters: parameters,
                authorization: key.authorization,
                stripeAccount: nil,
                idempotencyKey: .random()
            )
        )
        let grant = try OAuthGrant.read(response, receivedAt: now())
        guard grant.livemode == mode.isLive else {
            throw StripeAPIError(
                .tenantMismatch, message: "Stripe issued \(grant.tenant.mode)-mode tokens for a \(mode)-mode exchange.")
        }
        return grant
    }

    private func isFresh(_ grant: OAuthGrant) -> Bool {
        grant.accessTokenExpiresAt.timeIntervalSince(now()) > refreshMargin
    }

    private func stored(_ tenant: Tenant) async throws -> (grant: OAuthGrant, version: Int)? {
        guard let (bytes, version) = try await credentials.versionedValue(named: Self.credentialName, for: tenant)
        else {
            return nil
        }
        do {
            return (try JSONDecoder().decode(OAuthGrant.self, from: Data(bytes)), version)
        } catch {
            throw StripeAPIError(.missingCredential, message: "The stored OAuth tokens of \(tenant) are unreadable.")
        }
    }

    private func encode(_ grant: OAuthGrant) throws -> [UInt8] {
        Array(try JSONEncoder().encode(grant))
    }
}
