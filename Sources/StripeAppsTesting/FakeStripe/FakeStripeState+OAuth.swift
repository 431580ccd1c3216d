import Foundation
import StripeApps

extension FakeStripeState {
    /// How long an authorization code can be exchanged, in seconds.
    static let authorizationCodeLifetime: TimeInterval = 300

    /// Issues a single-use authorization code for `tenant`.
    mutating func issueAuthorizationCode(for tenant: Tenant, now: Date) -> String {
        let code = FakeStripeIdentifiers.make("ac_", length: 24)
        authorizationCodes[code] = AuthorizationCode(
            tenant: tenant,
            expiresAt: now.addingTimeInterval(Self.authorizationCodeLifetime)
        )
        return code
    }

    /// `POST /v1/oauth/token` with `grant_type=authorization_code` or `refresh_token`; errors use OAuth's flat
    /// `{"error","error_description"}` shape.
    mutating func exchangeOAuthToken(_ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        let parameters = call.parameters
        let grantType = try? parameters.string("grant_type")
        switch grantType {
        case "authorization_code":
            guard let code = try? parameters.string("code"), !code.isEmpty else {
                throw Self.badRequest("No authorization code provided")
            }
            return try redeem(code: code, call)
        case "refresh_token":
            guard let token = try? parameters.string("refresh_token"), !token.isEmpty else {
                throw Self.badRequest("No refresh token provided")
            }
            return try refresh(token: token, call)
        case .none, .some(""):
            throw Self.badRequest("No grant type specified")
        case let other?:
            var error = FakeStripeError.oauth("unsupported_grant_type", "Unsupported grant type: \(other)")
            error.isStored = false
            throw error
        }
    }

    private mutating func redeem(code: String, _ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        guard let grant = authorizationCodes[code] else {
            throw .oauth("invalid_grant", "Authorization code does not exist: \(code)")
        }
        guard !grant.isUsed else {
            // As OAuth recommends and Stripe does, reusing a code revokes every token it produced.
            accessTokens = accessTokens.filter { $0.value.code != code }
            refreshTokens = refreshTokens.filter { $0.value.code != code }
            throw .oauth(
                "invalid_grant",
                "This authorization code has already been used. All tokens issued with this code have been revoked."
            )
        }
        guard grant.expiresAt > call.now else {
            throw .oauth("invalid_grant", "Authorization code expired: \(code)")
        }
        guard grant.tenant.mode == call.tenant.mode else {
            throw .oauth(
                "invalid_grant",
                "Authorization code provided was issued in \(grant.tenant.mode) mode, but the request used a "
                    + "\(call.tenant.mode) mode key."
            )
        }
        authorizationCodes[code]?.isUsed = true
        if grant.tenant.accountID != call.settings.platformAccountID {
            connectedAccounts.insert(grant.tenant.accountID)
        }
        return issueTokens(for: grant.tenant, code: code, call)
    }

    private mutating func refresh(token: String, _ call: FakeStripeCall) throws(FakeStripeError) -> PayloadValue {
        guard let grant = refreshTokens[token] else {
            throw .oauth("invalid_grant", "Invalid refresh token: \(FakeStripeIdentifiers.mask(token))")
        }
        guard grant.tenant.mode == call.tenant.mode else {
            throw .oauth(
                "invalid_grant",
                "Refresh token provided was issued in \(grant.tenant.mode) mode, but the request used a "
                    + "\(call.tenant.mode) mode key."
            )
        }
        refreshTokens[token] = nil
        refreshCounts[grant.tenant.accountID, default: 0] += 1
        return issueTokens(for: grant.tenant, code: grant.code, call)
    }

    private mutating func issueTokens(for tenant: Tenant, code: String, _ call: FakeStripeCall) -> PayloadValue {
        let mode = tenant.mode.description
        let accessToken = FakeStripeIdentifiers.make("sk_\(mode)_oauth_", length: 24)
        let refreshToken = FakeStripeIdentifiers.make("rt_", length: 32)
        let lifetime = call.settings.accessTokenLifetime
        accessTokens[accessToken] = AccessToken(
            tenant: tenant,
            expiresAt: call.now.addingTimeInterval(TimeInterval(lifetime)),
            code: code
        )
        refreshTokens[refreshToken] = RefreshGrant(tenant: tenant, code: code)
        return .object([
            PayloadField("access_token", .string(accessToken)),
            PayloadField("livemode", .bool(tenant.mode.isLive)),
            PayloadField("refresh_token", .string(refreshToken)),
            PayloadField("scope", .string("stripe_apps")),
            PayloadField("stripe_publishable_key", .string(FakeStripeIdentifiers.make("pk_\(mode)_", length: 24))),
            PayloadField("stripe_user_id", .string(tenant.accountID)),
            PayloadField("token_type", .string("bearer")),
            PayloadField("expires_in", .integer(lifetime)),
        ])
    }

    private static func badRequest(_ description: String) -> FakeStripeError {
        var error = FakeStripeError.oauth("invalid_request", description)
        error.isStored = false
        return error
    }
}
