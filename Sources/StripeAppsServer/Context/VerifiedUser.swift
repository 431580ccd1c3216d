public import StripeApps

/// The caller of a signed UI route, taken from the verified payload only (never from unsigned headers).
public struct VerifiedUser: Sendable, Hashable {
    /// The Dashboard user (`usr_…`).
    public let userID: String
    /// The account (`acct_…`).
    public let accountID: String
    /// The mode the UI extension signed as the extra value `mode`, if it did.
    public let mode: Tenant.Mode?
    /// The roles from `stripe_roles`, empty when the extension did not send them.
    public let roles: [StripeRole]
    /// The whole verified payload, extra values included.
    public let payload: UIRequestPayload
    /// The label of the app secret that matched, for rotation monitoring.
    public let secretLabel: String

    /// Creates a verified user.
    public init(payload: UIRequestPayload, mode: Tenant.Mode?, secretLabel: String) {
        self.userID = payload.userID
        self.accountID = payload.accountID
        self.mode = mode
        self.roles = payload.roles
        self.payload = payload
        self.secretLabel = secretLabel
    }

    /// The tenant (account and mode) whose data the request may touch.
    ///
    /// - Throws: 400 `mode_required` when the request did not sign a mode: without it a test-mode call could
    ///   reach live data.
    public func tenant() throws(APIError) -> Tenant {
        guard let mode else {
            throw APIError.badRequest(
                "mode_required",
                "Sign the mode with the request: fetchStripeSignature({mode: environment.mode}) and send it in the "
                    + "body (POST) or as the Stripe-Mode header (GET)."
            )
        }
        return Tenant(accountID: accountID, mode: mode)
    }

    /// Whether the user holds at least one of `wanted`, type and name both: a custom role named like a built-in
    /// one is not that built-in role.
    public func hasAnyRole(_ wanted: Set<StripeRole>) -> Bool {
        roles.contains { wanted.contains($0) }
    }

    /// Whether the user holds at least one of the built-in roles `names`.
    public func hasAnyRole(_ names: Set<String>) -> Bool {
        hasAnyRole(Set(names.map(StripeRole.builtIn)))
    }
}
