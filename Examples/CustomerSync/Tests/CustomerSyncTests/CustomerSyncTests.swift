import CustomerSync
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StripeApps
import StripeAppsAPI
import StripeAppsServer
import StripeAppsTesting
import Testing

/// The CustomerSync app, tested as its developer would with the testing kit alone: the real backend on a fake
/// clock, the fake Stripe, a fake CRM. No network, no Stripe account.
@Suite struct CustomerSyncTests {
    static let tenantA = Tenant(accountID: "acct_1SyncTenantA0000", mode: .test)
    static let tenantB = Tenant(accountID: "acct_1SyncTenantB0000", mode: .test)
    static let tenantC = Tenant(accountID: "acct_1SyncTenantC0000", mode: .live)
    static let admin = [StripeRole.builtIn("Administrator")]

    /// What a test works with.
    struct App: Sendable {
        let backend: TestBackend<InMemoryStorage>
        let crm: FakeCRM
        let ledger: InMemorySyncLedger

        /// A Dashboard user of `tenant`, an administrator unless `admin` is false.
        func user(_ tenant: Tenant, admin: Bool = true) -> TestUser {
            TestUser(tenant: tenant, userID: "usr_sync_test", roles: admin ? CustomerSyncTests.admin : [])
        }

        /// Connects the CRM for `tenant` with `key`, as an administrator does in the app.
        @discardableResult
        func connect(_ tenant: Tenant, key: String) async throws -> TestResponse {
            try await backend.call(
                .post, "/api/crm/connection", as: user(tenant), json: [PayloadField("api_key", .string(key))])
        }

        /// Creates `count` customers of `tenant` in the fake Stripe; returns their ids.
        func createCustomers(_ count: Int, of tenant: Tenant) async throws -> [String] {
            backend.stripe.addAccount(tenant.accountID)
            let client = try backend.configuration.stripeAPI().client(for: tenant)
            var ids: [String] = []
            for index in 0..<count {
                let customer = try await client.customers.create([
                    "email": .string("c\(index)@\(tenant.accountID.lowercased()).example"),
                    "name": .string("Customer \(index)"),
                ])
                ids.append(customer.id)
            }
            return ids
        }

        /// A `customer.*` event of `tenant`, created `created` seconds after the clock's start.
        func event(
            _ type: String, _ customerID: String, of tenant: Tenant, name: String = "N", created: TimeInterval,
            id: String? = nil
        ) -> TestEvent {
            let customer = StripeFixtures.object("customer")?.setting("id", .string(customerID))
                .setting("email", .string("\(customerID)@example.com")).setting("name", .string(name))
            return TestEvent(
                type, account: tenant.accountID, mode: tenant.mode, id: id,
                created: backend.clock.now.addingTimeInterval(created), object: customer ?? .null)
        }

        /// The body of a response as JSON.
        func json(_ response: TestResponse) throws -> PayloadValue {
            try PayloadValue.parse(Array(response.body.readableBytesView))
        }
    }

    // docs:begin testing-kit
    /// The app's hooks in the real backend, calling a fake CRM served for the test.
    static func withApp(
        keyStorage: CustomerSyncApp.KeyStorage = .encrypted, _ body: @Sendable (App) async throws -> Void
    ) async throws {
        let crm = FakeCRM()
        let ledger = InMemorySyncLedger()
        try await crm.service.withServer { crmURL in
            let options = try CustomerSyncApp.Options(crmBaseURL: crmURL, keyStorage: keyStorage)
            try await withTestBackend(
                hooks: { setup in
                    try CustomerSyncApp.hooks(
                        configuration: setup.configuration, storage: setup.storage, ledger: ledger, options: options,
                        metrics: setup.metrics, now: setup.now, logger: setup.logger)
                },
                { backend in try await body(App(backend: backend, crm: crm, ledger: ledger)) })
        }
    }
    // docs:end testing-kit

    // MARK: Routes

    @Test func everyRouteAnswersForItsOwnTenantAndConnectingNeedsAnAdministrator() async throws {
        try await Self.withApp { app in
            let backend = app.backend
            let user = app.user(Self.tenantA)
            #expect(try await backend.call(.get, "/api/sync", as: user).status == .forbidden, "not installed yet")

            let installed = try await backend.install(Self.tenantA, userID: "usr_installer")
            // The onboarding deep link opens the app's onboarding view in the tenant's Dashboard.
            #expect(
                installed.headers[.location]
                    == "https://dashboard.stripe.com/acct_1SyncTenantA0000/test/dashboard?apps[com.example.test-app][drawer]=onboarding"
            )
            let status = try app.json(try await backend.call(.get, "/api/sync", as: user))
            #expect(status["connected"] == .bool(false))
            #expect(status["installed_at"]?.stringValue == "2024-01-01T00:00:00Z", "the install hook ran")
            #expect(try await app.ledger.state(of: Self.tenantA)?.installedBy == "usr_installer")

            let early = try await backend.call(.post, "/api/sync", as: user)
            #expect(early.status == .conflict)
            #expect(try app.json(early)["error"]?["code"]?.stringValue == "crm_not_connected")

            let customers = try await app.createCustomers(3, of: Self.tenantA)
            let notAdmin = try await backend.call(
                .post, "/api/crm/connection", as: app.user(Self.tenantA, admin: false),
                json: [PayloadField("api_key", .string("crm_key_tenant_a"))])
            #expect(notAdmin.status == .forbidden)
            let wrongKey = try await app.connect(Self.tenantA, key: "crm_key_wrong")
            #expect(wrongKey.status == .badRequest)
            #expect(try app.json(wrongKey)["error"]?["code"]?.stringValue == "crm_key_rejected")
            let tooShort = try await app.connect(Self.tenantA, key: "short")
            #expect(try app.json(tooShort)["error"]?["code"]?.stringValue == "invalid_api_key")

            let connected = try await app.connect(Self.tenantA, key: "crm_key_tenant_a")
            #expect(connected.status == .ok)
            #expect(try app.json(connected)["connected"] == .bool(true))
            try await backend.runJobs()  // connecting queued the first full sync
            #expect(Set(app.crm.contacts(key: "crm_key_tenant_a").keys) == Set(customers))

            let synced = try app.json(try await backend.call(.get, "/api/customers/\(customers[0])/sync", as: user))
            #expect(synced["status"]?.stringValue == "synced")
            let unknown = try app.json(try await backend.call(.get, "/api/customers/cus_unknown/sync", as: user))
            #expect(unknown["status"]?.stringValue == "not_synced")
            let invalid = try await backend.call(.get, "/api/customers/sub_1/sync", as: user)
            #expect(invalid.status == .badRequest)

            let queued = try await backend.call(.post, "/api/sync", as: user)
            #expect(queued.status == .accepted)
            try await backend.runJobs()
            let after = try app.json(try await backend.call(.get, "/api/sync", as: user))
            #expect(after["synced_customers"] == .number(3))
            #expect(after["last_full_sync"]?["trigger"]?.stringValue == "manual")

            // Another tenant sees nothing of A's.
            try await backend.install(Self.tenantB)
            let other = try app.json(try await backend.call(.get, "/api/sync", as: app.user(Self.tenantB)))
            #expect(other["connected"] == .bool(false) && other["synced_customers"] == .number(0))

            let disconnected = try await backend.call(.post, "/api/crm/disconnection", as: user)
            #expect(try app.json(disconnected)["connected"] == .bool(false))
            #expect(try app.json(try await backend.call(.get, "/api/sync", as: user))["connected"] == .bool(false))
        }
    }

    // MARK: Webhooks

    /// Deliveries arrive twice and out of order. A burst runs in the order Stripe made the changes; an event
    /// that arrives after a newer one ran changes nothing; the CRM ends with the newest state of each customer,
    /// and nothing is applied twice.
    @Test func aWebhookBurstWithDuplicatesAndLateEventsLeavesTheNewestState() async throws {
        try await Self.withApp { app in
            let backend = app.backend
            try await backend.install(Self.tenantA)
            try await app.connect(Self.tenantA, key: "crm_key_tenant_a")
            try await backend.runJobs()  // the first full sync: no customers yet
            app.crm.service.clearRequests()
            func deliver(_ events: [TestEvent]) async throws {
                for event in events {
                    backend.clock.advance(by: .seconds(1))
                    #expect(try await backend.deliver(event).status == .ok)
                }
            }

            let burst = [
                app.event("customer.updated", "cus_burst1", of: Self.tenantA, name: "Newest", created: 300),
                app.event("customer.created", "cus_burst1", of: Self.tenantA, name: "First", created: 100),
                app.event("customer.deleted", "cus_burst2", of: Self.tenantA, created: 400),
                app.event("customer.created", "cus_burst2", of: Self.tenantA, created: 110),
            ]
            try await deliver(burst + [burst[0], burst[2]])
            #expect(try await backend.processEvents() == 4, "each event once: the duplicates were stored once")
            #expect(app.crm.contacts(key: "crm_key_tenant_a") == ["cus_burst1": "cus_burst1@example.com|Newest"])
            let applied = app.crm.service.requests.map { "\($0.method) \($0.path) \($0.status.code)" }
            #expect(
                applied == [
                    "PUT /v1/contacts/cus_burst1 200", "PUT /v1/contacts/cus_burst2 200",
                    "PUT /v1/contacts/cus_burst1 200", "DELETE /v1/contacts/cus_burst2 204",
                ], "in the order Stripe made the changes")

            // Late deliveries of older changes: they run, and change nothing.
            try await deliver([
                app.event("customer.updated", "cus_burst1", of: Self.tenantA, name: "Older", created: 200),
                app.event("customer.updated", "cus_burst2", of: Self.tenantA, name: "Stale", created: 350),
            ])
            #expect(try await backend.processEvents() == 2)
            #expect(app.crm.service.requests.count == 4, "nothing more reached the CRM")
            #expect(try await app.ledger.record(of: "cus_burst2", for: Self.tenantA)?.isDeleted == true)

            // Nor does a replay of an old event.
            #expect(try await backend.storage.inbox.replay(id: burst[1].id))
            #expect(try await backend.processEvents() == 1)
            #expect(app.crm.service.requests.count == 4)
            #expect(try await backend.events(.succeeded).count >= 6)

            let metrics = String(buffer: try await backend.client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"customer_sync_customers_synced_total{trigger="event"} 4"#))
        }
    }

    // MARK: Jobs

    /// Every night at 02:00 UTC each installation's customers reach its own CRM account, page by page, with its
    /// own key; a tenant with no CRM connected is reported, not failed; the slot runs once.
    @Test func theNightlySyncRunsOncePerInstallationWithTheFakeClock() async throws {
        try await Self.withApp { app in
            let backend = app.backend
            var customers: [Tenant: [String]] = [:]
            for (tenant, count) in [(Self.tenantA, 230), (Self.tenantB, 4), (Self.tenantC, 2)] {
                try await backend.install(tenant)
                customers[tenant] = try await app.createCustomers(count, of: tenant)
            }
            try await app.connect(Self.tenantA, key: "crm_key_tenant_a")
            try await app.connect(Self.tenantB, key: "crm_key_tenant_b")
            // The connect-time syncs, then forget what they sent: the night must send everything again.
            try await backend.runJobs()
            let before = app.crm.service.requests.count

            func nightlyRuns() async throws -> [JobRecord] {
                try await backend.storage.jobs.jobs(status: nil, limit: 1000)
                    .filter { $0.slotKey?.hasPrefix("customer-sync.nightly:") == true }
            }
            backend.clock.advance(by: .seconds(2 * 3600 - 60))  // 01:59
            try await backend.runJobs()
            #expect(try await nightlyRuns().isEmpty, "not yet")
            backend.clock.advance(by: .seconds(60 + 600))  // 02:10, past each tenant's jitter
            try await backend.runJobs()
            let runs = try await nightlyRuns()
            #expect(runs.count == 3 && runs.allSatisfy { $0.status == .succeeded }, "one run per installation")
            #expect(app.crm.service.requests.count - before == 234, "every customer of A and B once more")
            #expect(Set(app.crm.contacts(key: "crm_key_tenant_a").keys) == Set(customers[Self.tenantA] ?? []))
            #expect(Set(app.crm.contacts(key: "crm_key_tenant_b").keys) == Set(customers[Self.tenantB] ?? []))
            // Stripe was asked page by page, each tenant through its own account.
            let pages = backend.stripe.requests.filter { $0.method == "GET" && $0.path == "/v1/customers" }
            #expect(pages.filter { $0.stripeAccount == Self.tenantA.accountID }.count >= 3)

            #expect(
                runs.contains { $0.tenant == Self.tenantA && $0.progressMessage == "230 customers checked, 230 sent" })
            #expect(
                runs.contains {
                    $0.tenant == Self.tenantC && $0.progressMessage == "CRM not connected; nothing to sync"
                })
            let state = try await app.ledger.state(of: Self.tenantA)
            #expect(state?.lastFullSync?.trigger == "nightly" && state?.lastFullSync?.customers == 230)

            backend.clock.advance(by: .seconds(12 * 3600))
            try await backend.runJobs()
            #expect(try await nightlyRuns().count == 3, "later the same day: the slot has run")
        }
    }

    // MARK: Outages and uninstalls

    // docs:begin testing-kit-outage
    /// The CRM answers 503 three times: the event fails, waits for its backoff on the clock, and succeeds once
    /// the CRM is back; the outage is counted.
    @Test func aCRMOutageIsRetriedWithBackoffUntilItRecovers() async throws {
        try await Self.withApp { app in
            let backend = app.backend
            try await backend.install(Self.tenantA)
            try await app.connect(Self.tenantA, key: "crm_key_tenant_a")
            try await backend.runJobs()
            app.crm.service.fail(next: 3, with: .serviceUnavailable)
            try await backend.deliver(app.event("customer.created", "cus_outage", of: Self.tenantA, created: 10))

            for attempt in 1...3 {
                #expect(try await backend.processEvents() == 1, "attempt \(attempt) fails")
                #expect(try await backend.events(.failed).count == 1)
                #expect(try await backend.processEvents() == 0, "the retry waits for its backoff")
                backend.clock.advance(by: .seconds(3600))
            }
            #expect(try await backend.processEvents() == 1)
            #expect(try await backend.events(.failed).isEmpty)
            #expect(app.crm.contacts(key: "crm_key_tenant_a")["cus_outage"] != nil)
            let metrics = String(buffer: try await backend.client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"customer_sync_crm_errors_total{operation="upsert",kind="transient"} 3"#))
        }
    }
    // docs:end testing-kit-outage

    /// An uninstall deletes what the app kept of the tenant (its records, its CRM key) and nothing of another's.
    @Test func anUninstallPurgesTheAppsOwnDataOfThatTenantOnly() async throws {
        try await Self.withApp { app in
            let backend = app.backend
            for (tenant, key) in [(Self.tenantA, "crm_key_tenant_a"), (Self.tenantB, "crm_key_tenant_b")] {
                try await backend.install(tenant)
                _ = try await app.createCustomers(2, of: tenant)
                try await app.connect(tenant, key: key)
            }
            try await backend.runJobs()
            #expect(try await app.ledger.syncedCount(for: Self.tenantA) == 2)

            backend.clock.advance(by: .seconds(60))
            try await backend.uninstall(Self.tenantA)
            #expect(try await app.ledger.state(of: Self.tenantA) == nil)
            #expect(try await app.ledger.syncedCount(for: Self.tenantA) == 0)
            let key = try await backend.storage.credentials.credential(named: "crm.api_key", for: Self.tenantA)
            #expect(key == nil, "the key is gone")
            #expect(try await app.ledger.syncedCount(for: Self.tenantB) == 2)
            let refused = try await backend.call(.get, "/api/sync", as: app.user(Self.tenantA))
            #expect(refused.status == .forbidden)
        }
    }

    /// With `stripe_secret_store`, the key lives in the tenant's Secret Store at Stripe, and the handlers read it
    /// from there.
    @Test func theKeyCanLiveInStripesSecretStore() async throws {
        try await Self.withApp(keyStorage: .stripeSecretStore) { app in
            let backend = app.backend
            try await backend.install(Self.tenantA)
            backend.stripe.addAccount(Self.tenantA.accountID)
            #expect(try await app.connect(Self.tenantA, key: "crm_key_tenant_a").status == .ok)
            let stored = backend.stripe.requests.filter {
                $0.method == "POST" && $0.path == "/v1/apps/secrets" && $0.stripeAccount == Self.tenantA.accountID
            }
            #expect(stored.count == 1)
            let sealed = try await backend.storage.credentials.credential(named: "crm.api_key", for: Self.tenantA)
            #expect(sealed == nil, "not in our storage")
            try await backend.deliver(app.event("customer.created", "cus_secret", of: Self.tenantA, created: 5))
            #expect(try await backend.processEvents() == 1)
            #expect(app.crm.contacts(key: "crm_key_tenant_a")["cus_secret"] != nil)
        }
    }
}
