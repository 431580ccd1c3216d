public import Hummingbird
public import StripeApps

/// Lets a request through only when the verified user holds at least one of the given roles (403 otherwise).
///
/// Roles come from the signed `stripe_roles` extra value; Stripe refuses to sign a request that claims a role
/// the user does not have, so they can be trusted. The UI extension must send them:
/// `fetchStripeSignature({stripe_roles: userContext.roles, …})`.
public struct RequireRolesMiddleware: RouterMiddleware {
    public typealias Context = VerifiedRequestContext

    /// The accepted roles, type and name: a custom role named `Administrator` is not the built-in one.
    public let anyOf: Set<StripeRole>

    /// Creates the middleware for built-in roles.
    ///
    /// - Parameter anyOf: Built-in role names such as `Administrator` or `Developer`; holding one is enough.
    public init(anyOf: Set<String>) {
        self.anyOf = Set(anyOf.map(StripeRole.builtIn))
    }

    /// Creates the middleware for any roles, built-in or custom (`StripeRole.custom("Auditor")`).
    public init(anyOfRoles: Set<StripeRole>) {
        self.anyOf = anyOfRoles
    }

    public func handle(
        _ request: Request,
        context: VerifiedRequestContext,
        next: (Request, VerifiedRequestContext) async throws -> Response
    ) async throws -> Response {
        guard context.user.hasAnyRole(anyOf) else {
            throw APIError(
                .forbidden,
                code: "insufficient_role",
                message:
                    "This route needs one of these roles: \(anyOf.map(\.description).sorted().joined(separator: ", ")). "
                    + "Send them signed: fetchStripeSignature({stripe_roles: userContext.roles})."
            )
        }
        return try await next(request, context)
    }
}
