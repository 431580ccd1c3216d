import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import StripeApps
import StripeAppsAPI
import StripeAppsServer
import StripeAppsTesting
import Testing

/// The three places `Docs/stripe-api.md` calls Stripe from — a UI route, a webhook handler and a job — run
/// against the fake Stripe over HTTP, exactly as written there.
@Suite struct StripeAPIIntegrationTests {
    static let account = "acct_1Integration0000"
    static let tenant = Tenant(accountID: account, mode: .test)

    /// The fake Stripe, and a `StripeAPI` configured the way `serve` configures it.
    static func withStripe(_ body: @Sendable (FakeStripe, StripeAPI) async throws -> Void) async throws {
        let fake = FakeStripe(now: { testNow })
        fake.addAccount(account)
        try await fake.withServer { url in
            var configuration = try AppConfiguration.testing()
            configuration.stripeAPIBaseURL = url.absoluteString
            configuration.stripeSecretKeys = [try APICredential(secretKey: fake.testSecretKey)]
            try await body(fake, try configuration.stripeAPI())
        }
    }

    /// The docs' UI route: creates a customer in the verified tenant's account.
    static func customerRoutes(_ stripe: StripeAPI) -> @Sendable (RouterGroup<VerifiedRequestContext>) -> Void {
        { api in
            api.post("customers") { _, context in
                let client = try stripe.client(for: try context.user.tenant())
                let customer = try await client.customers.create([
                    "metadata": ["created_by": .string(context.user.userID)]
                ])
                return Response.json(.object([PayloadField("id", .string(customer.id))]))
            }
        }
    }

    @Test("a UI route calls Stripe for the verified tenant; Stripe failures map to 502/503 JSON errors")
    func uiRoute() async throws {
        try await Self.withStripe { fake, stripe in
            let installed = [
                Tenant(accountID: Self.account, mode: .test), Tenant(accountID: Self.account, mode: .live),
            ]
            try await withTestApp(installed: installed, configureAPI: Self.customerRoutes(stripe)) { client in
                let ok = try await client.execute(
                    "/api/customers", .post, try signer.post(userID: "usr_1", accountID: Self.account, mode: .test))
                #expect(ok.status == .ok)
                let id = try #require(try ok.json()["id"]?.stringValue)
                #expect(fake.requests.last?.stripeAccount == Self.account)
                #expect(fake.requests.last?.parameters["metadata"]?["created_by"]?.stringValue == "usr_1")
                #expect(id.hasPrefix("cus_"))

                // No live key is configured: a clear 503 before anything is sent.
                let sent = fake.requests.count
                let live = try await client.execute(
                    "/api/customers", .post, try signer.post(userID: "usr_1", accountID: Self.account, mode: .live))
                #expect(live.status == .serviceUnavailable)
                #expect(live.errorCode == "stripe_not_configured")
                #expect(fake.requests.count == sent)

                fake.injectFault(.shouldNotRetry(status: 500), path: "/v1/customers")
                let failed = try await client.execute(
                    "/api/customers", .post, try signer.post(userID: "usr_1", accountID: Self.account, mode: .test))
                #expect(failed.status == .badGateway)
                #expect(failed.errorCode == "stripe_api_error")
                #expect(!failed.text.contains(fake.testSecretKey))
            }
        }
    }

    @Test("a webhook handler's call keyed by the event and step creates once, however often the event runs")
    func webhookHandler() async throws {
        try await Self.withStripe { fake, stripe in
            var handlers = EventHandlers()
            handlers.on("customer.subscription.created") { context in
                guard let tenant = context.tenant else { return }
                let client = try stripe.client(for: tenant)
                _ = try await client.customers.create(
                    ["description": "welcome pack"],
                    idempotencyKey: try .event(context.event.id, step: "welcome-pack")
                )
            }
            let hooks = ApplicationHooks(now: { testNow }, eventHandlers: handlers)
            let harness = try InboxWorkerTests.Harness(hooks: hooks)
            let store = harness.store
            let worker = harness.worker
            try await Application(router: harness.router).test(.router) { client in
                let body = InboxWorkerTests.event(
                    "evt_1Welcome", type: "customer.subscription.created", created: 100, account: Self.account)
                try await InboxWorkerTests.Harness.deliver(body, client)
                let firstRun = try await worker.processDueEvents()
                #expect(firstRun == 1)
                // Replayed by an operator (or retried after a crash): the same key, so no second customer.
                let replayed = try await store.inbox.replay(id: "evt_1Welcome")
                #expect(replayed)
                let secondRun = try await worker.processDueEvents()
                #expect(secondRun == 1)
            }
            let customers = try await stripe.client(for: Self.tenant).customers.list()
            #expect(customers.data.count == 1)
            let posts = fake.requests.filter { $0.method == "POST" && $0.path == "/v1/customers" }
            #expect(posts.map(\.idempotencyKey) == ["evt_1Welcome:welcome-pack", "evt_1Welcome:welcome-pack"])
            #expect(posts.last?.wasReplayed == true)
        }
    }

    @Test("a job walks every active installation with its own client")
    func job() async throws {
        try await Self.withStripe { fake, stripe in
            let other = "acct_1IntegrationOther"
            fake.addAccount(other)
            let store = InMemoryStorage()
            for (account, status) in [
                (Self.account, Installation.Status.active), (other, .active), ("acct_1Left", .inactive),
            ] {
                _ = try await store.installations.apply(
                    InstallationChange(
                        tenant: Tenant(accountID: account, mode: .test),
                        action: status == .active ? .activate : .deactivate, source: .installCallback,
                        occurredAt: testNow, recordedAt: testNow))
            }
            let job = NightlyCustomerCount(
                installations: store.installations, clients: .platform(stripe), logger: Logger(label: "test"))
            let counts = try await job.runOnce()
            #expect(
                counts == [Tenant(accountID: Self.account, mode: .test): 0, Tenant(accountID: other, mode: .test): 0])
            #expect(Set(fake.requests.compactMap(\.stripeAccount)) == [Self.account, other])
        }
    }
}

/// The docs' job: a service that, every night, counts each active tenant's customers.
struct NightlyCustomerCount<Installations: InstallationStore>: Service {
    let installations: Installations
    let clients: TenantClients
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            _ = try await runOnce()
            // Wakes early, and ends the loop, when the server shuts down.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(24 * 3600)) }
        }
    }

    func runOnce() async throws -> [Tenant: Int] {
        var counts: [Tenant: Int] = [:]
        for installation in try await installations.installations() where installation.status == .active {
            let client = try await clients.client(for: installation.tenant)
            var count = 0
            for try await _ in client.customers.all() { count += 1 }
            counts[installation.tenant] = count
            logger.info("customers counted", metadata: ["stripe.account": "\(installation.tenant.accountID)"])
        }
        return counts
    }
}
