import AsyncHTTPClient
import Foundation
import StripeApps
import StripeAppsTesting
import Testing

/// ``FakeStripe`` over real HTTP: authentication, accounts, isolation, idempotency, faults and recording.
@Suite struct FakeStripeTests {
    let clock = FakeClock()
    let stripe: FakeStripe

    init() {
        stripe = FakeStripe(now: clock.provider)
        stripe.addAccount("acct_1")
    }

    /// Runs `body` against a served fake with a client holding the test platform key.
    func serve(_ body: (WireClient) async throws -> Void) async throws {
        try await stripe.withServer { url in
            try await body(WireClient(baseURL: url, key: stripe.testSecretKey))
        }
    }

    // MARK: Authentication

    @Test func missingAndUnknownKeysAre401WithMaskedKeys() async throws {
        try await serve { client in
            let missing = try await client.with(key: nil).get("/v1/account")
            #expect(missing.status == 401)
            #expect(missing.errorType == "invalid_request_error")
            #expect(missing.errorMessage?.hasPrefix("You did not provide an API key.") == true)
            #expect(missing.header("Request-Id")?.hasPrefix("req_") == true)
            #expect(missing.header("Content-Type") == "application/json")

            let unknownKey = "sk_test_51NotARealKeyAtAllabcd"
            let unknown = try await client.with(key: unknownKey).get("/v1/account")
            #expect(unknown.status == 401)
            #expect(unknown.errorMessage == "Invalid API Key provided: sk_test_****abcd")
            #expect(!unknown.body.contains(unknownKey))

            let short = try await client.with(key: "rk_live_abc").get("/v1/account")
            #expect(short.errorMessage == "Invalid API Key provided: rk_live_****")
        }
        #expect(stripe.requests.map(\.credential) == [.missing, .invalid, .invalid])
        #expect(stripe.requests.allSatisfy { $0.status == 401 && $0.mode == nil })
    }

    @Test func bearerAndBasicAuthBothWorkAndTheKeyDecidesTheMode() async throws {
        try await serve { client in
            let bearer = try await client.get("/v1/account")
            #expect(bearer.status == 200)
            #expect(bearer.json["id"] == .string("acct_platform"))
            #expect(bearer.json["object"] == .string("account"))

            var basic = client
            basic.basicAuth = true
            #expect(try await basic.get("/v1/account").status == 200)

            let live = try await client.with(key: stripe.liveSecretKey).post("/v1/customers", "email=a%40b.co")
            #expect(live.json["livemode"] == .bool(true))
            let test = try await client.post("/v1/customers", "email=a%40b.co")
            #expect(test.json["livemode"] == .bool(false))
        }
        let recorded = stripe.requests
        #expect(recorded.map(\.credential) == [.platform, .platform, .platform, .platform])
        #expect(recorded.map(\.mode) == [.test, .test, .live, .test])
    }

    @Test func stripeAccountNeedsThePlatformKeyAndAConnectedAccount() async throws {
        let restricted = stripe.issueRestrictedKey(account: "acct_1")
        try await serve { client in
            let connected = try await client.get("/v1/account", headers: [("Stripe-Account", "acct_1")])
            #expect(connected.json["id"] == .string("acct_1"))

            let stranger = try await client.get("/v1/account", headers: [("Stripe-Account", "acct_unknown")])
            #expect(stranger.status == 403)
            #expect(stranger.errorCode == "account_invalid")
            #expect(stranger.errorType == "invalid_request_error")
            #expect(!stranger.body.contains(stripe.testSecretKey))

            let own = try await client.with(key: restricted).get("/v1/account")
            #expect(own.json["id"] == .string("acct_1"))
            let sameAccount = try await client.with(key: restricted)
                .get("/v1/account", headers: [("Stripe-Account", "acct_1")])
            #expect(sameAccount.status == 200)
            let other = try await client.with(key: restricted)
                .get("/v1/account", headers: [("Stripe-Account", "acct_platform")])
            #expect(other.status == 403)

            #expect(try await client.get("/v1/accounts/acct_1").status == 200)
            #expect(try await client.with(key: restricted).get("/v1/accounts/acct_platform").status == 403)
            #expect(try await client.get("/v1/accounts/acct_nobody").status == 404)
        }
        #expect(stripe.requests[2].credential == .restricted)
        #expect(stripe.requests[1].stripeAccount == "acct_unknown")
    }

    // MARK: Isolation and wire format

    @Test func dataIsKeptApartPerAccountAndMode() async throws {
        try await serve { client in
            let created = try await client.post("/v1/customers", "email=jenny%40example.com&name=Jenny")
            let id = try #require(created.json["id"]?.stringValue)
            #expect(id.hasPrefix("cus_"))
            #expect(try await client.get("/v1/customers/\(id)").json["email"] == .string("jenny@example.com"))

            let connected = try await client.get("/v1/customers/\(id)", headers: [("Stripe-Account", "acct_1")])
            #expect(connected.status == 404)
            #expect(connected.errorCode == "resource_missing")
            #expect(connected.errorParam == "id")
            #expect(try await client.with(key: stripe.liveSecretKey).get("/v1/customers/\(id)").status == 404)
            let connectedList = try await client.get("/v1/customers", headers: [("Stripe-Account", "acct_1")])
            #expect(connectedList.listIDs.isEmpty)
            #expect(try await client.get("/v1/customers").listIDs == [id])

            let events = try await client.get("/v1/events?type=customer.created")
            #expect(events.json["data"]?.elements.first?["data"]?["object"]?["id"] == .string(id))
            #expect(try await client.get("/v1/events", headers: [("Stripe-Account", "acct_1")]).listIDs.isEmpty)
        }
    }

    @Test func formKeysMayBePercentEncodedAndAreRecordedNested() async throws {
        try await serve { client in
            let answer = try await client.post(
                "/v1/customers",
                "metadata%5Bplan%5D=pro&metadata[seats]=3&description=a+b%26c&expand%5B%5D=tax",
                headers: [("Stripe-Version", "2024-06-20")]
            )
            #expect(answer.status == 400)
            #expect(answer.errorMessage == "This property cannot be expanded (tax).")
            let created = try await client.post("/v1/customers", "metadata%5Bplan%5D=pro&description=a+b%26c")
            #expect(created.json["metadata"]?["plan"] == .string("pro"))
            #expect(created.json["description"] == .string("a b&c"))

            let unknown = try await client.post("/v1/customers", "colour=blue")
            #expect(unknown.status == 400)
            #expect(unknown.errorCode == "parameter_unknown")
            #expect(unknown.errorParam == "colour")

            let json = try await client.send(
                "POST", "/v1/customers", form: #"{"name":"x"}"#, contentType: "application/json")
            #expect(json.status == 400)
            #expect(json.errorMessage?.hasPrefix("Invalid request: unsupported Content-Type application/json") == true)

            let unrecognized = try await client.get("/v1/x")
            #expect(unrecognized.status == 404)
            #expect(unrecognized.errorMessage?.hasPrefix("Unrecognized request URL (GET: /v1/x)") == true)
        }
        let first = try #require(stripe.requests.first)
        #expect(first.parameters["metadata"]?["plan"] == .string("pro"))
        #expect(first.parameters["metadata"]?["seats"] == .string("3"))
        #expect(first.parameters["expand"] == .array([.string("tax")]))
        #expect(first.stripeVersion == "2024-06-20")
    }

    // MARK: Idempotency

    @Test func idempotentRetriesReplayTheFirstAnswerByteForByte() async throws {
        try await serve { client in
            let key = [("Idempotency-Key", "retry-1")]
            let first = try await client.post("/v1/customers", "email=a%40b.co&metadata[x]=1", headers: key)
            clock.advance(by: .seconds(5))
            let second = try await client.post("/v1/customers", "metadata[x]=1&email=a%40b.co", headers: key)
            #expect(first.status == 200)
            #expect(second.status == 200)
            #expect(second.body == first.body)
            #expect(first.header("Idempotent-Replayed") == nil)
            #expect(second.header("Idempotent-Replayed") == "true")
            #expect(second.header("Original-Request") == first.header("Request-Id"))
            #expect(second.header("Request-Id") != first.header("Request-Id"))
            #expect(try await client.get("/v1/customers").listIDs.count == 1)

            // The same key in another account is another key.
            let elsewhere = try await client.post(
                "/v1/customers",
                "email=a%40b.co&metadata[x]=1",
                headers: key + [("Stripe-Account", "acct_1")]
            )
            #expect(elsewhere.header("Idempotent-Replayed") == nil)
            #expect(elsewhere.json["id"] != first.json["id"])
        }
        #expect(stripe.requests.map(\.wasReplayed) == [false, true, false, false])
        #expect(stripe.requests[1].idempotencyKey == "retry-1")
    }

    @Test func reusingAKeyForOtherParametersOrAnotherEndpointIsAnIdempotencyError() async throws {
        try await serve { client in
            let key = [("Idempotency-Key", "k-1")]
            #expect(try await client.post("/v1/customers", "email=a%40b.co", headers: key).status == 200)
            let changed = try await client.post("/v1/customers", "email=other%40b.co", headers: key)
            #expect(changed.status == 400)
            #expect(changed.errorType == "idempotency_error")
            let elsewhere = try await client.post(
                "/v1/apps/secrets",
                "name=n&payload=p&scope[type]=account",
                headers: key
            )
            #expect(elsewhere.status == 400)
            #expect(elsewhere.errorType == "idempotency_error")

            // A request that failed validation is not saved: the key stays free.
            let invalid = try await client.post("/v1/customers", "email=broken", headers: [("Idempotency-Key", "k-2")])
            #expect(invalid.status == 400)
            #expect(invalid.errorCode == "email_invalid")
            let valid = try await client.post(
                "/v1/customers", "email=fine%40b.co", headers: [("Idempotency-Key", "k-2")])
            #expect(valid.status == 200)
            #expect(valid.header("Idempotent-Replayed") == nil)
        }
    }

    // MARK: Faults

    @Test func rateLimitAndServerFaultsAnswerOnceThenTheRequestRuns() async throws {
        stripe.injectFault(.rateLimited(code: "lock_timeout"), path: "/v1/customers", method: "POST")
        stripe.injectFault(.rateLimited(retryAfter: 2), path: "/v1/account")
        stripe.injectFault(.serverError(), path: "/v1/account")
        stripe.injectFault(.shouldRetry(status: 503), path: "/v1/account")
        stripe.injectFault(.shouldNotRetry(status: 400), path: "/v1/account")
        #expect(stripe.pendingFaultCount == 5)
        try await serve { client in
            let locked = try await client.post("/v1/customers", "name=x", headers: [("Idempotency-Key", "f-1")])
            #expect(locked.status == 429)
            #expect(locked.errorCode == "lock_timeout")
            #expect(locked.errorType == "invalid_request_error")
            // Faults are not saved for the key: the retry executes.
            let retried = try await client.post("/v1/customers", "name=x", headers: [("Idempotency-Key", "f-1")])
            #expect(retried.status == 200)
            #expect(retried.header("Idempotent-Replayed") == nil)

            let limited = try await client.get("/v1/account")
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limit")
            #expect(limited.header("Retry-After") == "2")
            let failed = try await client.get("/v1/account")
            #expect(failed.status == 500)
            #expect(failed.errorType == "api_error")
            #expect(failed.header("Stripe-Should-Retry") == nil)
            let retry = try await client.get("/v1/account")
            #expect(retry.status == 503)
            #expect(retry.header("Stripe-Should-Retry") == "true")
            let noRetry = try await client.get("/v1/account")
            #expect(noRetry.status == 400)
            #expect(noRetry.header("Stripe-Should-Retry") == "false")
            #expect(try await client.get("/v1/account").status == 200)
        }
        #expect(stripe.pendingFaultCount == 0)
        #expect(
            stripe.requests.map { $0.fault?.description } == [
                "rateLimited(lock_timeout)", nil, "rateLimited(rate_limit)", "serverError", "shouldRetry(503)",
                "shouldNotRetry(400)", nil,
            ])
    }

    @Test func faultsMatchPathAndMethodAndCount() async throws {
        stripe.injectFault(.serverError(), count: 2, path: "/v1/customers*", method: "GET")
        try await serve { client async throws in
            #expect(try await client.post("/v1/customers", "name=a").status == 200)
            #expect(try await client.get("/v1/account").status == 200)
            #expect(try await client.get("/v1/customers/cus_x").status == 500)
            #expect(try await client.get("/v1/customers").status == 500)
            #expect(try await client.get("/v1/customers").status == 200)
        }
    }

    @Test func slowFaultsDelayThenAnswerNormally() async throws {
        stripe.injectFault(.slow(.milliseconds(300)))
        try await serve { client in
            let started = ContinuousClock.now
            let answer = try await client.get("/v1/account")
            #expect(answer.status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
        }
    }

    @Test func droppedConnectionsAreClientErrorsNotStatuses() async throws {
        stripe.injectFault(.dropConnection, path: "/v1/account")
        try await serve { client async throws in
            await #expect(throws: HTTPClientError.remoteConnectionClosed) {
                _ = try await client.get("/v1/account")
            }
            #expect(try await client.get("/v1/account").status == 200)
        }
        #expect(stripe.requests.first?.status == nil)
        #expect(stripe.requests.first?.fault?.description == "dropConnection")
    }

    @Test func clearAndResetForgetState() async throws {
        stripe.injectFault(.serverError())
        stripe.clearFaults()
        #expect(stripe.pendingFaultCount == 0)
        try await serve { client in
            #expect(try await client.get("/v1/account").status == 200)
            stripe.clearRequests()
            #expect(stripe.requests.isEmpty)
            stripe.reset()
            let gone = try await client.get("/v1/account", headers: [("Stripe-Account", "acct_1")])
            #expect(gone.status == 403)
        }
    }
}
