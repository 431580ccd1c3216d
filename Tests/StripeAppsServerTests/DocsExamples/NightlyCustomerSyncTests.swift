import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import StripeApps
import StripeAppsAPI
import StripeAppsServer
import StripeAppsTesting
import Testing

/// The nightly customer sync of Docs/jobs.md, run as written: two installed tenants with their customers in the
/// fake Stripe and their CRM keys sealed in storage, a fake CRM over HTTP, and the schedule driven by the clock.
@Suite struct NightlyCustomerSyncTests {
    static let tenantA = Tenant(accountID: "acct_1SyncTenantA0000", mode: .test)
    static let tenantB = Tenant(accountID: "acct_1SyncTenantB0000", mode: .test)
    static let keys = [tenantA: "crm_key_tenant_a", tenantB: "crm_key_tenant_b"]
    /// 02:30 in Berlin (CET, UTC+1) the night after `testNow` (2023-11-14T22:13:20Z): 2023-11-15T01:30:00Z.
    static let slot = Date(timeIntervalSince1970: 1_700_011_800)

    /// What a test drives and inspects.
    struct Harness: Sendable {
        let fake: FakeStripe
        let crm: FakeCRM
        let storage: InMemoryStorage
        let worker: JobWorker
        let clock: TestClock
        /// Each tenant's customer ids, as Stripe created them.
        let customers: [Tenant: [String]]

        /// Sets the clock `seconds` after the slot.
        func set(secondsAfterSlot seconds: TimeInterval) {
            clock.withLock { $0 = NightlyCustomerSyncTests.slot.addingTimeInterval(seconds) }
        }

        /// The contact ids the CRM imported with the tenant's key.
        func imported(for tenant: Tenant) -> [String] {
            crm.imported(authorization: "Bearer \(NightlyCustomerSyncTests.keys[tenant] ?? "")")
        }

        /// How the contacts imported with the tenant's key differ from its customers, briefly; empty when each
        /// customer arrived once and nothing else did.
        func importProblems(for tenant: Tenant) -> [String] {
            let counts = Dictionary(imported(for: tenant).map { ($0, 1) }, uniquingKeysWith: +)
            let customers = Set(self.customers[tenant] ?? [])
            let problems = [
                ("missing", customers.filter { counts[$0] == nil }),
                ("imported more than once", Set(counts.filter { $0.value > 1 }.keys)),
                ("not this tenant's", Set(counts.keys).subtracting(customers)),
            ]
            return problems.filter { !$0.1.isEmpty }.map { "\($0.1.count) \($0.0), such as \($0.1.sorted()[0])" }
        }

        /// The jobs in `status`, by tenant.
        func jobs(_ status: JobRecord.Status) async throws -> [Tenant: JobRecord] {
            let jobs = try await storage.jobs.jobs(status: status, limit: 10)
            return Dictionary(jobs.compactMap { job in job.tenant.map { ($0, job) } }) { first, _ in first }
        }
    }

    /// Tenant A with `countA` customers and tenant B with `countB`, both installed with their CRM keys stored, the
    /// example registered on a worker with the application's tenant access, the fake Stripe and the fake CRM serving.
    static func withHarness(
        customers countA: Int, _ countB: Int, crm: FakeCRM = FakeCRM(),
        _ body: @Sendable (Harness) async throws -> Void
    ) async throws {
        let fake = FakeStripe(now: { testNow })
        try await fake.withServer { stripeURL in
            try await Application(router: crm.router).test(.live) { client in
                var configuration = try AppConfiguration.testing()
                configuration.stripeAPIBaseURL = stripeURL.absoluteString
                configuration.stripeSecretKeys = [try APICredential(secretKey: fake.testSecretKey)]
                configuration.credentialCipher = try CredentialCipher(keys: [SymmetricKey(size: .bits256)])
                let storage = InMemoryStorage()
                let credentials = TenantCredentials(
                    store: storage.credentials, cipher: try #require(configuration.credentialCipher))
                let stripe = try configuration.stripeAPI()
                var customers: [Tenant: [String]] = [:]
                for (tenant, count) in [(tenantA, countA), (tenantB, countB)] {
                    fake.addAccount(tenant.accountID)
                    try await install(tenant, in: storage)
                    try await credentials.setSecret(try #require(keys[tenant]), named: "crm.api_key", for: tenant)
                    for index in 0..<count {
                        let customer = try await stripe.client(for: tenant).customers.create([
                            "email": .string("customer\(index)@\(tenant.accountID.lowercased()).example"),
                            "name": .string("Customer \(index)"),
                        ])
                        customers[tenant, default: []].append(customer.id)
                    }
                }
                fake.clearRequests()

                var registry = JobRegistry()
                let crmPort = try #require(client.port)
                let crmURL = try #require(URL(string: "http://127.0.0.1:\(crmPort)"))
                try registerNightlyCustomerSync(in: &registry, crmBaseURL: crmURL)
                let clock = TestClock()
                // Built as `jobWorker(configuration:…)` builds it, with the same tenant access, but without the
                // backend's own schedules (pruning, recovery), so the counts below are the example's runs alone.
                let worker = JobWorker(
                    queue: storage.jobs, schedules: storage.schedules, registry: registry,
                    access: TenantAccess(configuration: configuration, credentials: storage.credentials),
                    options: .init(owner: "docs-example"), now: { clock.withLock { $0 } }, logger: Logger(label: "test")
                )
                try await body(
                    Harness(
                        fake: fake, crm: crm, storage: storage, worker: worker, clock: clock, customers: customers))
            }
        }
    }

    /// Each tenant's customers, listed page by page through its own Stripe client, reach the CRM once, in batches,
    /// with its own key; each job reports its progress and succeeds; the slot runs once per night.
    @Test func eachTenantsCustomersReachItsCRMAccountOncePerNight() async throws {
        try await Self.withHarness(customers: 250, 3) { h in
            #expect(await h.worker.advanceSchedules() == 0, "registered now: no backfill")
            h.set(secondsAfterSlot: -60)
            #expect(await h.worker.advanceSchedules() == 0, "01:29 UTC is 02:29 in Berlin: not yet")
            h.set(secondsAfterSlot: 1)
            #expect(await h.worker.advanceSchedules() == 2, "one run per installation")
            h.set(secondsAfterSlot: 600)  // past each tenant's jitter
            #expect(try await h.worker.processDueJobs() == 2)

            for tenant in [Self.tenantA, Self.tenantB] {
                #expect(h.importProblems(for: tenant).isEmpty, "every customer of \(tenant), once, with its key")
            }
            #expect(Set(h.crm.requests.map(\.authorization)) == ["Bearer crm_key_tenant_a", "Bearer crm_key_tenant_b"])
            let batchesOfA = h.crm.requests.filter { $0.authorization == "Bearer crm_key_tenant_a" }
            #expect(batchesOfA.map(\.contactIDs.count) == [100, 100, 50])
            #expect(Set(h.crm.requests.compactMap(\.idempotencyKey)).count == 4, "one key per batch")
            // Auto-pagination: three pages of A's customers, one of B's, each through the tenant's account.
            let pages = h.fake.requests.filter { $0.method == "GET" && $0.path == "/v1/customers" }
            #expect(pages.filter { $0.stripeAccount == Self.tenantA.accountID }.count == 3)
            #expect(pages.filter { $0.stripeAccount == Self.tenantB.accountID }.count == 1)

            let succeeded = try await h.jobs(.succeeded)
            for (tenant, count) in [(Self.tenantA, 250), (Self.tenantB, 3)] {
                let job = try #require(succeeded[tenant])
                #expect(job.progress == 1 && job.progressMessage == "\(count) customers sent")
                #expect(job.attempts == 1)
                #expect(job.slotKey == "nightly-customer-sync:\(tenant.accountID):test:1700011800")
            }

            let sent = h.crm.requests.count
            h.set(secondsAfterSlot: 12 * 3600)
            #expect(await h.worker.advanceSchedules() == 0, "later the same day: the slot has run")
            #expect(try await h.worker.processDueJobs() == 0)
            #expect(h.crm.requests.count == sent)
        }
    }

    /// The CRM fails tenant A's second batch: the run fails, its retry lists the same customers again, and the
    /// batch the CRM already imported is answered from its idempotency key instead of imported twice.
    @Test func aRetriedSyncImportsNoBatchTwice() async throws {
        let crm = FakeCRM()
        crm.failRequest(2, authorization: "Bearer crm_key_tenant_a")
        try await Self.withHarness(customers: 250, 3, crm: crm) { h in
            _ = await h.worker.advanceSchedules()
            h.set(secondsAfterSlot: 1)
            #expect(await h.worker.advanceSchedules() == 2)
            h.set(secondsAfterSlot: 600)
            #expect(try await h.worker.processDueJobs() == 2)
            let failed = try #require(try await h.jobs(.failed)[Self.tenantA])
            #expect(failed.lastError?.contains("the CRM answered 503") == true)
            #expect(h.imported(for: Self.tenantA).count == 100, "the first batch is in")

            h.set(secondsAfterSlot: 700)  // past the first retry's backoff (1 s)
            #expect(try await h.worker.processDueJobs() == 1)
            #expect(h.importProblems(for: Self.tenantA).isEmpty, "every customer of A, once")
            let requestsOfA = h.crm.requests.filter { $0.authorization == "Bearer crm_key_tenant_a" }
            #expect(requestsOfA.map(\.status) == [.ok, .serviceUnavailable, .ok, .ok, .ok])
            #expect(requestsOfA.map(\.isReplay) == [false, false, true, false, false])
            #expect(requestsOfA[2].idempotencyKey == requestsOfA[0].idempotencyKey)
            let job = try #require(try await h.jobs(.succeeded)[Self.tenantA])
            #expect(job.attempts == 2 && job.progress == 1 && job.progressMessage == "250 customers sent")
            #expect(h.importProblems(for: Self.tenantB).isEmpty)
        }
    }
}
