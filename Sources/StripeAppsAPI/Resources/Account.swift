import StripeApps

/// The tenant's Stripe account: the fields this package reads.
public struct Account: Decodable, Sendable, Hashable {
    /// `acct_…`.
    public let id: String
    /// The account's email address.
    public let email: String?
    /// The two-letter country code.
    public let country: String?
    /// The default currency.
    public let defaultCurrency: String?
    /// Whether the account can take charges.
    public let chargesEnabled: Bool?
    /// Whether the account has completed onboarding.
    public let detailsSubmitted: Bool?
    /// The public business name, when set.
    public var businessName: String? { businessProfile?.name }

    let businessProfile: BusinessProfile?

    struct BusinessProfile: Decodable, Sendable, Hashable {
        let name: String?
    }

    enum CodingKeys: String, CodingKey {
        case id, email, country
        case defaultCurrency = "default_currency"
        case chargesEnabled = "charges_enabled"
        case detailsSubmitted = "details_submitted"
        case businessProfile = "business_profile"
    }
}

/// The tenant's own account.
public struct Accounts: Sendable {
    let client: StripeClient

    /// Retrieves the tenant's account (`GET /v1/accounts/<tenant's account>`); there is no way to name another.
    public func retrieve() async throws -> Account {
        try await client.get("/v1/accounts/\(try PathSegment(client.tenant.accountID))").decode()
    }
}

extension StripeClient {
    /// The tenant's account.
    public var account: Accounts { Accounts(client: self) }
}
