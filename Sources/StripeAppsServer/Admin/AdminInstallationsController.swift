import Foundation
import Hummingbird
import Logging
import StripeApps

/// `GET /admin/installations` (search by account, filter by mode, status and block, 50 a page) and one tenant's
/// page, `GET /admin/installations/{mode}/{account}`: its installation and block, settings keys (never values),
/// recent events and audit log, with `POST …/block` (a reason may be given) and `POST …/unblock`.
struct AdminInstallationsController<
    Admin: AdminStore, Installations: InstallationStore, Settings: SettingsStore, Credentials: CredentialStore
>: Sendable {
    let pages: AdminPages
    let admin: Admin
    let installations: Installations
    let settings: Settings
    let credentials: Credentials
    let now: @Sendable () -> Date

    static var pageSize: Int { 50 }
    /// The newest audit records shown on a tenant's page.
    static var auditShown: Int { 100 }

    func register(on group: RouterGroup<AdminRequestContext>) {
        group.get("installations") { request, context in try await list(request, context) }
        group.get("installations/:mode/:account") { request, context in try await tenant(request, context) }
        group.post("installations/:mode/:account/block") { _, context in try await block(context, isBlocking: true) }
        group.post("installations/:mode/:account/unblock") { _, context in
            try await block(context, isBlocking: false)
        }
    }

    private func list(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = InstallationFilter()
        filter.accountContains = query.get("q").map { String($0.trimmingCharacters(in: .whitespaces).prefix(200)) }
            .flatMap { $0.isEmpty ? nil : $0 }
        if let mode = query.get("mode"), !mode.isEmpty {
            guard let parsed = Tenant.Mode(mode) else {
                throw AdminPageError.badRequest("invalid_mode", "The mode must be live or test.")
            }
            filter.mode = parsed
        }
        if let status = query.get("status"), !status.isEmpty {
            guard let parsed = Installation.Status(status) else {
                throw AdminPageError.badRequest("invalid_status", "The status must be active or inactive.")
            }
            filter.status = parsed
        }
        switch query.get("blocked") {
        case nil, "": break
        case "yes": filter.isBlocked = true
        case "no": filter.isBlocked = false
        default: throw AdminPageError.badRequest("invalid_blocked", "Blocked must be yes or no.")
        }
        var after: Tenant?
        if let position = query.get("after") {
            let parts = position.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let mode = Tenant.Mode(String(parts[0])) else {
                throw AdminPageError.badRequest("invalid_position", "The page position cannot be read.")
            }
            after = Tenant(accountID: String(parts[1]), mode: mode)
        }
        let found = try await admin.installations(matching: filter, after: after, limit: Self.pageSize)
        var data: [String: Any] = [
            "q": filter.accountContains ?? "",
            "modes": AdminPages.options(["live", "test"], selected: filter.mode?.description),
            "statuses": AdminPages.options(["active", "inactive"], selected: filter.status?.description),
            "blockedOptions": AdminPages.options(
                ["yes", "no"], selected: filter.isBlocked.map { $0 ? "yes" : "no" }),
            "rows": found.map { installation in
                var row: [String: Any] = [
                    "account": installation.tenant.accountID, "mode": installation.tenant.mode.description,
                    "status": installation.status.description, "href": AdminPages.tenantHref(installation.tenant),
                    "created": AdminPages.time(installation.createdAt),
                    "changed": AdminPages.time(installation.lastChangedAt ?? installation.updatedAt),
                ]
                // Left out when not blocked: an empty text still opens a Mustache section.
                if let block = installation.block { row["blocked"] = "since " + AdminPages.time(block.blockedAt) }
                return row
            },
        ]
        if found.count == Self.pageSize, let last = found.last {
            let items = AdminPages.queryItems(request).filter { $0.name != "after" }
            data["next"] = AdminPages.path(
                "/admin/installations",
                items + [URLQueryItem(name: "after", value: "\(last.tenant.mode)/\(last.tenant.accountID)")])
        }
        return pages.page(
            "installations", data,
            AdminPages.Frame(title: "Installations", code: "installations", session: context.session))
    }

    private func tenant(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        guard let mode = Tenant.Mode(try context.parameter("mode")) else {
            throw AdminPageError.notFound("tenant")
        }
        let tenant = Tenant(accountID: try context.parameter("account"), mode: mode)
        let installation = try await installations.installation(for: tenant)
        let document = try await settings.settings(for: tenant)
        let audit = try await credentials.auditRecords(for: tenant).suffix(Self.auditShown).reversed()
        let events = try await admin.events(
            matching: InboxFilter(accountID: tenant.accountID, mode: tenant.mode), after: nil, limit: 20)
        let keys = document.values.keys.sorted()
        var data: [String: Any] = [
            "settingsKeys": keys, "hasSettings": !keys.isEmpty, "settingsVersion": document.version,
            "events": events.map(AdminInboxController<Admin>.row),
            "allEvents": AdminPages.path(
                "/admin/inbox",
                [URLQueryItem(name: "account", value: tenant.accountID), URLQueryItem(name: "mode", value: "\(mode)")]),
            "audit": audit.map { record in
                ["date": AdminPages.time(record.date), "action": record.action, "reason": record.reason]
            },
        ]
        if let installation {
            var shown: [String: Any] = [
                "status": installation.status.description, "created": AdminPages.time(installation.createdAt),
                "changed": AdminPages.time(installation.lastChangedAt ?? installation.updatedAt),
                "changedBy": installation.lastChangedBy ?? "unknown",
                "blockAction": AdminPages.tenantHref(tenant) + "/block",
                "unblockAction": AdminPages.tenantHref(tenant) + "/unblock",
                "maximumReason": TenantBlock.maximumReasonLength,
            ]
            if let block = installation.block {
                var blocked: [String: Any] = ["since": AdminPages.time(block.blockedAt), "by": block.blockedBy]
                if let reason = block.reason, !reason.isEmpty { blocked["reason"] = reason }
                shown["block"] = blocked
            }
            data["installation"] = shown
        } else if events.isEmpty && audit.isEmpty {
            throw AdminPageError.notFound("tenant")
        }
        let notice: String? =
            switch request.uri.queryParameters.get("notice") {
            case "blocked":
                "Blocked: its calls get 403 tenant_blocked, its webhooks are kept without running, its jobs are cancelled."
            case "unblocked": "Unblocked: it is served again. Replay its blocked events and cancelled jobs to run them."
            default: nil
            }
        return pages.page(
            "tenant", data,
            AdminPages.Frame(
                title: "Tenant \(tenant)", code: "tenant", session: context.session, notice: notice,
                refreshable: request))
    }

    /// Blocks the tenant (with the form's reason) or lifts its block, then shows its page.
    private func block(_ context: AdminRequestContext, isBlocking: Bool) async throws -> Response {
        guard let mode = Tenant.Mode(try context.parameter("mode")) else { throw AdminPageError.notFound("tenant") }
        let tenant = Tenant(accountID: try context.parameter("account"), mode: mode)
        let action = AdminAction(actor: context.session.actor, date: now())
        let record: Installation?
        if isBlocking {
            let reason = context.form["reason"]?.trimmingCharacters(in: .whitespaces)
            if let reason, !TenantBlock.isValidReason(reason) {
                throw AdminPageError.badRequest(
                    "invalid_reason",
                    "The reason must be one line of at most \(TenantBlock.maximumReasonLength) characters.")
            }
            record = try await admin.block(tenant, reason: reason.flatMap { $0.isEmpty ? nil : $0 }, by: action)
        } else {
            record = try await admin.unblock(tenant, by: action)
        }
        guard record != nil else {
            throw AdminPageError(
                .notFound, code: "unknown_tenant", title: "Not found",
                message: "This tenant has no installation record: only installed or uninstalled tenants can be blocked."
            )
        }
        context.logAdminAction(
            isBlocking ? "block" : "unblock",
            ["stripe.account": "\(tenant.accountID)", "stripe.mode": "\(tenant.mode)"])
        return AdminPages.redirect(AdminPages.tenantHref(tenant) + "?notice=\(isBlocking ? "blocked" : "unblocked")")
    }
}
