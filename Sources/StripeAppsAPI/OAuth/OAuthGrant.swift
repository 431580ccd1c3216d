public import StripeApps

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// What an OAuth app holds for one installation: the tokens from `/v1/oauth/token`.
///
/// Its `description` shows neither token.
public struct OAuthGrant: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The account that installed the app (`stripe_user_id`).
    public let accountID: String
    /// Whether the tokens work in live mode (`livemode`).
    public let livemode: Bool
    /// The granted scope (`stripe_apps`).
    public let scope: String?
    /// The account's publishable key, for client-side use.
    public let publishableKey: String?
    /// When the access token expires.
    public let accessTokenExpiresAt: Date
    let accessToken: String
    let refreshToken: String

    /// The tenant the grant is for.
    public var tenant: Tenant { Tenant(accountID: accountID, mode: livemode ? .live : .test) }

    public var description: String { "OAuthGrant(\(tenant), expires \(accessTokenExpiresAt), tokens redacted)" }

    init(
        accountID: String,
        livemode: Bool,
        scope: String?,
        publishableKey: String?,
        accessTokenExpiresAt: Date,
        accessToken: String,
        refreshToken: String
    ) {
        self.accountID = accountID
        self.livemode = livemode
        self.scope = scope
        self.publishableKey = publishableKey
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.accessToken = accessToken
        self.refreshToken = refreshToken
    }

    /// Reads a token response; access tokens last an hour unless it says otherwise (`expires_in`).
    static func read(_ response: StripeResponse, receivedAt: Date) throws -> OAuthGrant {
        let json = try response.json()
        guard let accessToken = json["access_token"]?.stringValue, !accessToken.isEmpty,
            let refreshToken = json["refresh_token"]?.stringValue, !refreshToken.isEmpty,
            let accountID = json["stripe_user_id"]?.stringValue, accountID.hasPrefix("acct_"),
            case .bool(let livemode)? = json["livemode"]
        else {
            throw StripeAPIError(
                .invalidResponse,
                message: "The OAuth token answer lacks a token, the account or livemode.",
                requestID: response.requestID
            )
        }
        var lifetime = 3600.0
        if case .number(let expiresIn)? = json["expires_in"], expiresIn > 0 { lifetime = expiresIn }
        return OAuthGrant(
            accountID: accountID,
            livemode: livemode,
            scope: json["scope"]?.stringValue,
            publishableKey: json["stripe_publishable_key"]?.stringValue,
            accessTokenExpiresAt: receivedAt.addingTimeInterval(lifetime),
            accessToken: accessToken,
            refreshToken: refreshToken
        )
    }
}
