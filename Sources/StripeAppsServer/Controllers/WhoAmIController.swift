import Hummingbird
import StripeApps

/// `POST /api/whoami`: the verified identity and the installation status of the tenant.
struct WhoAmIController<Installations: InstallationStore> {
    let installations: Installations

    func register(on api: RouterGroup<VerifiedRequestContext>) {
        api.post("whoami") { _, context in
            let user = context.user
            var installation = PayloadValue.null
            if let mode = user.mode {
                let record = try await installations.installation(for: Tenant(accountID: user.accountID, mode: mode))
                installation = .object([PayloadField("status", .string(record?.status.description ?? "not_installed"))])
            }
            return Response.json(
                .object([
                    PayloadField("account_id", .string(user.accountID)),
                    PayloadField("user_id", .string(user.userID)),
                    PayloadField("mode", user.mode.map { .string($0.description) } ?? .null),
                    PayloadField("roles", .array(user.roles.map(\.payloadValue))),
                    PayloadField("installation", installation),
                ])
            )
        }
    }
}
