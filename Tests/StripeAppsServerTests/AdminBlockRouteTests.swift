import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import StripeApps
import StripeAppsServer
import Testing

/// Blocking and unblocking a tenant from its admin page: CSRF-protected forms, refused for read-only sessions,
/// audited, shown on the tenant page and in the installations list.
@Suite struct AdminBlockRouteTests {
    static let tenant = Tenant(accountID: "acct_admin", mode: .test)
    static let page = "/admin/installations/test/acct_admin"

    static func storage() async throws -> InMemoryStorage {
        let storage = InMemoryStorage()
        try await install(Self.tenant, in: storage)
        try await install(Tenant(accountID: "acct_other", mode: .test), in: storage)
        return storage
    }

    @Test func aFullSessionBlocksAndUnblocksFromTheTenantPage() async throws {
        let storage = try await Self.storage()
        let sink = LogSink()
        try await AdminRouteTests.withAdmin(storage: storage, logger: sink.logger) { client in
            let session = try await client.session(AdminRouteTests.token)
            let before = try await client.execute(uri: Self.page, method: .get, headers: [.cookie: session.cookie])
            #expect(before.text.contains(#"<dd id="blocked">no</dd>"#))
            #expect(before.text.contains(#"action="/admin/installations/test/acct_admin/block""#))
            #expect(!before.text.contains(#"id="unblock""#))

            let reason = "<b>chargebacks</b> & spam"
            let blocked = try await client.post(
                Self.page + "/block", session,
                fields: "&reason=" + (reason.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            #expect(blocked.status == .seeOther)
            #expect(blocked.headers[.location] == Self.page + "?notice=blocked")
            let block = try #require(try await storage.installations.installation(for: Self.tenant)?.block)
            #expect(block.reason == reason && block.blockedBy.hasPrefix("admin session "))
            #expect(
                try await storage.installations.installation(for: Tenant(accountID: "acct_other", mode: .test))?
                    .isBlocked == false)

            let after = try await client.execute(
                uri: Self.page + "?notice=blocked", method: .get, headers: [.cookie: session.cookie])
            #expect(after.text.contains(#"id="notice">Blocked:"#))
            #expect(after.text.contains("&lt;b&gt;chargebacks&lt;/b&gt; &amp; spam"), "escaped")
            #expect(!after.text.contains("<b>chargebacks"))
            #expect(after.text.contains(#"id="unblock""#) && !after.text.contains(#"id="block""#))
            #expect(after.text.contains("<td>admin_blocked</td>"), "on the audit log")

            let list = try await client.execute(
                uri: "/admin/installations", method: .get, headers: [.cookie: session.cookie])
            #expect(list.text.contains(#"<tr class="blocked"><td><a href="/admin/installations/test/acct_admin">"#))
            #expect(!list.text.contains(#"<tr class="blocked"><td><a href="/admin/installations/test/acct_other">"#))
            for (query, shown, hidden) in [("yes", "acct_admin", "acct_other"), ("no", "acct_other", "acct_admin")] {
                let filtered = try await client.execute(
                    uri: "/admin/installations?blocked=\(query)", method: .get, headers: [.cookie: session.cookie])
                #expect(
                    filtered.text.contains(">\(shown)</a>") && !filtered.text.contains(">\(hidden)</a>"), "\(query)")
            }
            let badFilter = try await client.execute(
                uri: "/admin/installations?blocked=maybe", method: .get, headers: [.cookie: session.cookie])
            #expect(badFilter.status == .badRequest && badFilter.text.contains(#"data-code="invalid_blocked""#))

            let unblocked = try await client.post(Self.page + "/unblock", session)
            #expect(unblocked.headers[.location] == Self.page + "?notice=unblocked")
            #expect(try await storage.installations.installation(for: Self.tenant)?.isBlocked == false)
        }
        let audit = try await storage.credentials.auditRecords(for: Self.tenant)
        #expect(audit.map(\.action) == ["admin_blocked", "admin_unblocked"])
        for action in ["block", "unblock"] {
            #expect(
                sink.all.contains(#""admin.action": \#(action),"#) || sink.all.contains(#""admin.action": \#(action)]"#)
            )
        }
        #expect(!sink.all.contains(AdminRouteTests.token))
    }

    @Test func refusedPostsChangeNothing() async throws {
        let storage = try await Self.storage()
        try await AdminRouteTests.withAdmin(storage: storage) { client in
            let full = try await client.session(AdminRouteTests.token)
            let readOnly = try await client.session(AdminRouteTests.readOnlyToken)
            let page = try await client.execute(uri: Self.page, method: .get, headers: [.cookie: readOnly.cookie])
            #expect(page.text.contains(#"<dd id="blocked">no</dd>"#))
            #expect(!page.text.contains(#"id="block""#), "no form for a read-only session")
            let cases: [(HTTPFields, String, String, HTTPResponse.Status)] = [
                ([.cookie: readOnly.cookie], "csrf=\(readOnly.csrf)", "read_only_session", .forbidden),
                ([.cookie: full.cookie], "reason=x", "csrf_token_invalid", .forbidden),
                ([.cookie: full.cookie], "csrf=\(readOnly.csrf)", "csrf_token_invalid", .forbidden),
                (
                    [.cookie: full.cookie, .secFetchSite: "cross-site"], "csrf=\(full.csrf)", "cross_site_request",
                    .forbidden
                ),
                ([:], "csrf=\(full.csrf)", "session_required", .forbidden),
                ([.cookie: full.cookie], "csrf=\(full.csrf)&reason=two%0Alines", "invalid_reason", .badRequest),
                (
                    [.cookie: full.cookie], "csrf=\(full.csrf)&reason=\(String(repeating: "r", count: 501))",
                    "invalid_reason", .badRequest
                ),
            ]
            for (headers, body, code, status) in cases {
                let response = try await client.execute(
                    uri: Self.page + "/block", method: .post, headers: headers.form, body: .init(string: body))
                #expect(response.status == status, "\(code)")
                #expect(response.text.contains(#"data-code="\#(code)""#), "\(code)")
            }
            // A tenant without an installation record, in the other mode or unknown, and a mode that does not exist.
            for (path, code) in [
                ("/admin/installations/live/acct_admin/block", "unknown_tenant"),
                ("/admin/installations/test/acct_nobody/unblock", "unknown_tenant"),
                ("/admin/installations/prod/acct_admin/block", "not_found"),
            ] {
                let response = try await client.post(path, full)
                #expect(response.status == .notFound, "\(path)")
                #expect(response.text.contains(#"data-code="\#(code)""#), "\(path)")
            }
        }
        #expect(try await storage.installations.installation(for: Self.tenant)?.isBlocked == false)
        #expect(try await storage.credentials.auditRecords(for: Self.tenant).isEmpty)
    }
}
