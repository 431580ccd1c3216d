import Foundation
import StripeApps
import StripeAppsAPI
import StripeAppsTesting
import Testing

/// The client against our fake Stripe, over real HTTP: retry rules, idempotency, tenant binding, pagination.
@Suite("Stripe client against the fake Stripe")
struct FakeStripeClientTests {
    typealias H = FakeStripeHarness

    @Test("429 lock_timeout and 500 are retried with the same idempotency key, after doubling waits")
    func retriesTransientFailures() async throws {
        try await H.run { h in
            h.fake.injectFault(.rateLimited(code: "lock_timeout"), path: "/v1/customers", method: "POST")
            h.fake.injectFault(.serverError(), path: "/v1/customers", method: "POST")
            let client = try h.api.client(for: H.tenantA)
            let customer = try await client.customers.create(["email": "retry@example.com"])
            let posts = h.fake.requests.filter { $0.method == "POST" && $0.path == "/v1/customers" }
            #expect(posts.map(\.status) == [429, 500, 200])
            #expect(Set(posts.compactMap(\.idempotencyKey)).count == 1)
            #expect(posts.allSatisfy { $0.idempotencyKey != nil })
            #expect(h.waits.all == [.milliseconds(500), .seconds(1)])
            // The observer (the server's metrics) hears of every attempt, with its status and retry number.
            #expect(h.attempts.all.map(\.status) == [429, 500, 200])
            #expect(h.attempts.all.map(\.retry) == [0, 1, 2])
            #expect(h.attempts.all.allSatisfy { $0.method == "POST" && $0.duration > .zero })
            let listed = try await client.customers.list()
            #expect(listed.data.map(\.id) == [customer.id])
            #expect(h.attempts.all.last?.method == "GET")
        }
    }

    @Test("Stripe-Should-Retry: true retries even a 409; false stops even a 500; other 4xx never retry")
    func shouldRetryHeader() async throws {
        try await H.run { h in
            let client = try h.api.client(for: H.tenantA)
            h.fake.injectFault(.shouldRetry(status: 409), path: "/v1/customers")
            _ = try await client.customers.list()
            #expect(h.fake.requests.map(\.status) == [409, 200])

            h.fake.clearRequests()
            h.fake.injectFault(.shouldNotRetry(status: 500), path: "/v1/customers")
            let stopped = await #expect(throws: StripeAPIError.self) { try await client.customers.list() }
            #expect(stopped?.code == .server)
            #expect(h.fake.requests.count == 1)

            h.fake.clearRequests()
            let missing = await #expect(throws: StripeAPIError.self) {
                try await client.customers.retrieve("cus_missing")
            }
            #expect(missing?.code == .invalidRequest)
            #expect(missing?.httpStatus == 404)
            #expect(missing?.stripeCode == "resource_missing")
            #expect(missing?.param == "id")
            #expect(missing?.requestID?.hasPrefix("req_") == true)
            #expect(h.fake.requests.count == 1)

            h.fake.clearRequests()
            h.fake.injectFault(
                .error(status: 402, type: "card_error", code: "card_declined", message: "Your card was declined."),
                path: "/v1/customers"
            )
            let declined = await #expect(throws: StripeAPIError.self) { try await client.customers.list() }
            #expect(declined?.code == .card)
            #expect(declined?.stripeCode == "card_declined")
            #expect(h.fake.requests.count == 1)
        }
    }

    @Test("retries stop after the policy's maximum and the last error is thrown")
    func retriesAreBounded() async throws {
        try await H.run(retryPolicy: RetryPolicy(maximumRetries: 2)) { h in
            let client = try h.api.client(for: H.tenantA)
            h.fake.injectFault(.rateLimited(), count: 5, path: "/v1/customers")
            let error = await #expect(throws: StripeAPIError.self) { try await client.customers.list() }
            #expect(error?.code == .rateLimited)
            #expect(error?.stripeCode == "rate_limit")
            #expect(h.fake.requests.count == 3)
            #expect(h.waits.all.count == 2)
        }
    }

    @Test("Retry-After is honoured, capped at the maximum delay")
    func retryAfter() async throws {
        try await H.run(retryPolicy: RetryPolicy(maximumRetries: 2, maximumDelay: .seconds(5))) { h in
            let client = try h.api.client(for: H.tenantA)
            h.fake.injectFault(.rateLimited(retryAfter: 3), path: "/v1/customers")
            h.fake.injectFault(.rateLimited(retryAfter: 60), path: "/v1/customers")
            _ = try await client.customers.list()
            #expect(h.waits.all == [.seconds(3), .seconds(5)])
        }
    }

    @Test("a dropped connection and a time-out are retried; a POST keeps its key so nothing is created twice")
    func connectionErrorsAndTimeouts() async throws {
        // A 20 s time-out, so that the one healthy attempt never times out on a machine busy with other tests (1 s,
        // 2 s and 5 s did, under the full suite on two cores); the slow attempt stays well past it.
        try await H.run(timeout: .seconds(20)) { h in
            let client = try h.api.client(for: H.tenantA)
            h.fake.injectFault(.dropConnection, path: "/v1/customers", method: "POST")
            h.fake.injectFault(.slow(.seconds(45)), path: "/v1/customers", method: "POST")
            let customer = try await client.customers.create(["email": "flaky@example.com"])
            let posts = h.fake.requests.filter { $0.method == "POST" }
            #expect(posts.count == 3)
            #expect(Set(posts.compactMap(\.idempotencyKey)).count == 1)
            #expect(h.waits.all.count == 2)
            // The slow attempt did run on the server after the client gave up; the retry replayed it.
            let all = try await client.customers.list()
            #expect(all.data.map(\.id) == [customer.id])
        }
    }

    @Test("with retries off, a drop is a connection error")
    func noRetriesDrop() async throws {
        try await H.run(retryPolicy: .none) { h in
            let client = try h.api.client(for: H.tenantA)
            h.fake.injectFault(.dropConnection, path: "/v1/customers")
            let dropped = await #expect(throws: StripeAPIError.self) { try await client.customers.list() }
            #expect(dropped?.code == .connection)
            #expect(h.fake.requests.count == 1)
        }
    }

    @Test("with retries off, a stall past the time-out is a time-out")
    func noRetriesStall() async throws {
        try await H.run(retryPolicy: .none, timeout: .seconds(1)) { h in
            let client = try h.api.client(for: H.tenantA)
            h.fake.injectFault(.slow(.seconds(3)), path: "/v1/customers")
            let stalled = await #expect(throws: StripeAPIError.self) { try await client.customers.list() }
            #expect(stalled?.code == .timeout)
        }
    }

    @Test("an idempotency key replays the first answer; the same key with other parameters is refused")
    func idempotentReplay() async throws {
        try await H.run { h in
            let client = try h.api.client(for: H.tenantA)
            let key = try IdempotencyKey.event("evt_1Replay", step: "create-customer")
            let first = try await client.post("/v1/customers", ["email": "once@example.com"], idempotencyKey: key)
            // The handler runs again after a crash: same event, same step, same key.
            let second = try await client.post("/v1/customers", ["email": "once@example.com"], idempotencyKey: key)
            #expect(!first.isIdempotentReplay)
            #expect(second.isIdempotentReplay)
            #expect(second.body == first.body)
            #expect(try await client.customers.list().data.count == 1)
            let conflict = await #expect(throws: StripeAPIError.self) {
                try await client.post("/v1/customers", ["email": "other@example.com"], idempotencyKey: key)
            }
            #expect(conflict?.code == .idempotency)
            #expect(try await client.customers.list().data.count == 1)
        }
    }

    @Test("a client for account A only ever acts on A: every call carries Stripe-Account A, B sees nothing")
    func tenantBinding() async throws {
        try await H.run { h in
            let clientA = try h.api.client(for: H.tenantA)
            let clientB = try h.api.client(for: H.tenantB)
            let created = try await clientA.customers.create(["email": "a@example.com"])
            _ = try await clientA.secrets.set("token", payload: "a-secret")
            #expect(try await clientA.account.retrieve().id == H.accountA)
            #expect(try await clientB.customers.list().data.isEmpty)
            #expect(try await clientB.secrets.find("token") == nil)
            let notVisible = await #expect(throws: StripeAPIError.self) {
                try await clientB.customers.retrieve(created.id)
            }
            #expect(notVisible?.httpStatus == 404)
            let escape = await #expect(throws: StripeAPIError.self) {
                try await clientA.post("/v1/accounts/\(H.accountB)", ["metadata": ["x": "y"]])
            }
            #expect(escape?.code == .tenantMismatch)
            let fromA = h.fake.requests.filter { $0.stripeAccount == H.accountA }
            let fromB = h.fake.requests.filter { $0.stripeAccount == H.accountB }
            #expect(fromA.count == 3)  // the escape attempt never left the client
            #expect(fromB.count == 3)
            #expect(h.fake.requests.allSatisfy { $0.stripeAccount != nil && $0.credential == .platform })
            #expect(h.fake.requests.allSatisfy { $0.stripeVersion == StripeAPIConfiguration.defaultAPIVersion })
            // Test-mode tenants use the test key: the live store stays empty.
            let live = try h.api.client(for: Tenant(accountID: H.accountA, mode: .live))
            #expect(try await live.customers.list().data.isEmpty)
        }
    }

    @Test("a restricted-key client acts on the key's own account without Stripe-Account")
    func restrictedKeys() async throws {
        try await H.run { h in
            let key = h.fake.issueRestrictedKey(account: H.accountA, mode: .test)
            let client = try h.api.client(for: H.tenantA, restrictedKey: APICredential(restrictedKey: key))
            #expect(try await client.account.retrieve().id == H.accountA)
            let last = try #require(h.fake.requests.last)
            #expect(last.stripeAccount == nil)
            #expect(last.credential == .restricted)
        }
    }

    @Test("auto-pagination walks every page newest first; ending_before walks back oldest first")
    func pagination() async throws {
        try await H.run { h in
            let client = try h.api.client(for: H.tenantA)
            var created: [String] = []
            for index in 0..<25 {
                h.clock.advance(by: .seconds(1))
                created.append(try await client.customers.create(["email": .string("c\(index)@example.com")]).id)
            }
            h.fake.clearRequests()
            var seen: [String] = []
            for try await customer in client.customers.all(limit: 10) { seen.append(customer.id) }
            #expect(seen == created.reversed())
            #expect(h.fake.requests.count == 3)

            var eventIDs: [String] = []
            for try await event in client.events.all(types: ["customer.created"], limit: 7) {
                eventIDs.append(event.id)
            }
            #expect(eventIDs.count == 25)
            let oldest = try #require(eventIDs.last)
            var forward: [Int64] = []
            for try await event in client.events.all(endingBefore: oldest, limit: 5) { forward.append(event.created) }
            #expect(forward.count == 24)
            #expect(forward == forward.sorted())
        }
    }

    @Test("keys never reach logs or errors, even when Stripe refuses them")
    func redaction() async throws {
        try await H.run(retryPolicy: RetryPolicy(maximumRetries: 1)) { h in
            let client = try h.api.client(for: H.tenantA)
            h.fake.injectFault(.serverError(), count: 2, path: "/v1/customers")
            let error = await #expect(throws: StripeAPIError.self) { try await client.customers.list() }
            #expect(!h.logs.all.isEmpty)
            let unknown = try StripeAPI(
                configuration: h.api.configuration,
                secretKeys: [APICredential(secretKey: "sk_test_UnknownKeyValue123456")]
            )
            let refused = await #expect(throws: StripeAPIError.self) {
                try await unknown.client(for: H.tenantA).customers.list()
            }
            #expect(refused?.code == .authentication)
            let text = h.logs.all.joined(separator: "\n") + "\(String(describing: error))\(String(describing: refused))"
            for secret in [h.fake.testSecretKey, h.fake.liveSecretKey, "UnknownKeyValue123456"] {
                #expect(!text.contains(secret))
            }
        }
    }
}
