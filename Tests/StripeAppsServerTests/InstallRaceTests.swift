import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import StripeApps
import StripeAppsServer
import Synchronization
import Testing

/// The install callback and the app events write installations through one path with one ordering rule.
@Suite struct InstallRaceTests {
    static let account = "acct_1JSkf6FRwUQjTSJE"
    static let tenant = Tenant(accountID: account, mode: .live)

    static func event(_ id: String, _ type: String, created: Int64) -> String {
        #"{"id":"\#(id)","object":"event","created":\#(created),"livemode":true,"type":"\#(type)","account":"\#(account)","data":{"object":{"id":"ca_1","object":"application"}}}"#
    }

    static func deliver(_ body: String, _ client: some TestClientProtocol) async throws {
        let response = try await client.execute(
            uri: "/webhooks/live", method: .post,
            headers: try WebhookRouteTests.signed(body, secret: WebhookRouteTests.liveSecret),
            body: ByteBuffer(string: body))
        #expect(response.status == .ok)
    }

    /// Install links and the live webhook endpoint over one in-memory storage; the test runs the worker's passes.
    static func backend(_ hooks: ApplicationHooks) throws -> (InMemoryStorage, InboxWorker, Router<AppRequestContext>) {
        var configuration = try InstallRouteTests.configuration()
        configuration.webhookSecretsLive = try SigningKeyring(secrets: [WebhookRouteTests.liveSecret])
        let store = InMemoryStorage()
        let worker = inboxWorker(
            configuration: configuration, storage: store, hooks: hooks, logger: Logger(label: "test"))
        let router = buildRouter(
            configuration: configuration, storage: store, appKeyring: try SigningKeyring(secrets: [appSecret]),
            hooks: hooks, worker: worker)
        return (store, worker, router)
    }

    /// Uninstall, then reinstall through the install link, and only then the uninstall's event is processed
    /// (a backlog, a retry). Before the callback shared the write path, that event deactivated the reinstall and
    /// purged its data; now it changes nothing.
    @Test func aLateUninstallEventLeavesAReinstallThroughTheCallbackAlone() async throws {
        let purged = Mutex<[Tenant]>([])
        let hooks = ApplicationHooks(
            now: { testNow },
            lifecycle: InstallLifecycle(purge: { tenant, _ in purged.withLock { $0.append(tenant) } })
        )
        let (store, worker, router) = try Self.backend(hooks)
        let routes = InstallRouteTests()
        try await Application(router: router).test(.router) { client in
            // Installed a while ago, then uninstalled 500 s before the redirect of the reinstall (signed at testNow).
            try await Self.deliver(
                Self.event("evt_install", "account.application.authorized", created: 1_699_990_000), client)
            #expect(try await worker.processDueEvents() == 1)
            try await Self.deliver(
                Self.event("evt_uninstall", "account.application.deauthorized", created: 1_699_999_500), client)

            let started = try await routes.start(client, query: "?mode=live")
            let callback = try await client.execute(
                uri: try routes.callbackURI(state: started.state, account: Self.account), method: .get,
                headers: [.cookie: started.cookie])
            #expect(callback.status == .found)
            let installed = try #require(try await store.installations.installation(for: Self.tenant))
            #expect(installed.status == .active)
            #expect(installed.lastChangedBy == "install_callback")
            #expect(installed.lastChangedAt == Date(timeIntervalSince1970: 1_700_000_000), "Stripe's signing time")
            _ = try await store.settings.updateSettings(for: Self.tenant, expectedVersion: 0) { $0["a"] = .number(1) }

            // The late uninstall event, and the install's own follow-up (which records the same install again).
            #expect(try await worker.processDueEvents() == 2)
            #expect(try await store.installations.installation(for: Self.tenant)?.status == .active)
            #expect(try await store.settings.settings(for: Self.tenant).version == 1, "the new install's data stays")
            #expect(try await store.credentials.auditRecords(for: Self.tenant).isEmpty)
            #expect(purged.withLock { $0 }.isEmpty, "the app's purge hook did not run")
            #expect(try await store.inbox.events(status: .succeeded, limit: 10).count == 3)

            // A later uninstall still works.
            try await Self.deliver(
                Self.event("evt_uninstall_2", "account.application.deauthorized", created: 1_700_000_100), client)
            #expect(try await worker.processDueEvents() == 1)
            #expect(try await store.installations.installation(for: Self.tenant)?.status == .inactive)
            #expect(try await store.settings.settings(for: Self.tenant) == .empty)
            #expect(purged.withLock { $0 } == [Self.tenant])
        }
    }

    /// An install whose redirect is older than an uninstall already recorded is refused with a clear page.
    @Test func aCallbackOlderThanARecordedUninstallIsAClearConflict() async throws {
        let (store, worker, router) = try Self.backend(ApplicationHooks(now: { testNow }))
        let routes = InstallRouteTests()
        try await Application(router: router).test(.router) { client in
            try await Self.deliver(
                Self.event("evt_uninstall", "account.application.deauthorized", created: 1_700_000_050), client)
            #expect(try await worker.processDueEvents() == 1)
            let started = try await routes.start(client, query: "?mode=live")
            let callback = try await client.execute(
                uri: try routes.callbackURI(state: started.state, account: Self.account), method: .get,
                headers: [.cookie: started.cookie])
            #expect(callback.status == .conflict)
            #expect(routes.code(of: callback) == "install_superseded")
            #expect(try await store.installations.installation(for: Self.tenant)?.status == .inactive)
            // Its follow-up finds the install superseded too: no hook, nothing recorded.
            #expect(try await worker.processDueEvents() == 1)
            #expect(try await store.installations.installation(for: Self.tenant)?.status == .inactive)
        }
    }
}
