import Foundation
import Logging
import StripeApps
import StripeAppsAPI
import Testing

@Suite("Credentials, tenant binding and retry rules (no network)")
struct ClientRulesTests {
    @Test("key prefixes decide the mode; malformed keys are refused")
    func keyPrefixes() throws {
        #expect(try APICredential(secretKey: "sk_live_abc").mode == .live)
        #expect(try APICredential(secretKey: "sk_test_abc").mode == .test)
        #expect(try APICredential(restrictedKey: "rk_live_abc").mode == .live)
        for bad in ["", "pk_test_abc", "sk_test_", "rk_test_abc", "sk_test_a b", "whsec_x"] {
            #expect(throws: StripeAPIError.self) { try APICredential(secretKey: bad) }
        }
        let mismatch = #expect(throws: StripeAPIError.self) {
            try APICredential(oauthAccessToken: "sk_live_token", mode: .test)
        }
        #expect(mismatch?.code == .tenantMismatch)
    }

    /// The one-pass check before redaction says yes for secrets and signatures and no for ordinary lines; the
    /// randomized check that it never misses what the full scan changes is `HardeningTests`, over the log
    /// redaction, which runs this scan and the signature one.
    @Test("the fast check before redaction")
    func fastCheckBeforeRedaction() {
        // Assembled from parts so secret scanners do not flag a fake live key.
        for text in ["sk_" + "live_abcdefghij", "whsec_0123456789", "v1=0123456789abcdef0123", "absec_x"] {
            #expect(CredentialRedaction.mayNeedRedaction(text))
        }
        for text in ["GET /api/whoami 200", "acct_1Tenant usr_2 evt_3", "signed request", ""] {
            #expect(!CredentialRedaction.mayNeedRedaction(text))
        }
    }

    @Test("descriptions never show a key")
    func redactedDescriptions() throws {
        // Assembled from parts so secret scanners do not flag a fake live key.
        let liveKey = "sk_" + "live_51SuperSecretValue"
        let key = try APICredential(secretKey: liveKey)
        #expect(!"\(key)".contains("SuperSecret"))
        #expect(!String(reflecting: key).contains("SuperSecret"))
        let error = StripeAPIError(.authentication, message: "Invalid API Key provided: \(liveKey)")
        #expect(!error.description.contains("SuperSecret"))
        #expect(error.message.contains("sk_live_[redacted]"))
        let masked = StripeAPIError(.authentication, message: "Invalid API Key provided: sk_test_****abcd")
        #expect(masked.message.contains("sk_test_****abcd"))
    }

    @Test("a live key never serves a test tenant, and a missing key is an error before any request")
    func modeBinding() throws {
        let api = try StripeAPI(secretKeys: [APICredential(secretKey: "sk_live_only")])
        let missing = #expect(throws: StripeAPIError.self) {
            try api.client(for: Tenant(accountID: "acct_1", mode: .test))
        }
        #expect(missing?.code == .missingCredential)
        #expect(try api.client(for: Tenant(accountID: "acct_1", mode: .live)).tenant.mode == .live)

        let restricted = try APICredential(restrictedKey: "rk_test_abc")
        let mismatch = #expect(throws: StripeAPIError.self) {
            try api.client(for: Tenant(accountID: "acct_1", mode: .live), restrictedKey: restricted)
        }
        #expect(mismatch?.code == .tenantMismatch)
        #expect(throws: StripeAPIError.self) {
            try StripeAPI(secretKeys: [APICredential(secretKey: "sk_test_a"), APICredential(secretKey: "sk_test_b")])
        }
    }

    @Test("paths that would leave the tenant are refused before sending")
    func pathBinding() async throws {
        // Nothing listens here: a refused call must fail with invalidCall/tenantMismatch, not a connection error.
        let api = try StripeAPI(
            configuration: StripeAPIConfiguration(
                baseURL: "http://127.0.0.1:9", timeout: .seconds(2), retryPolicy: .none),
            secretKeys: [APICredential(secretKey: "sk_test_abc")]
        )
        let client = try api.client(for: Tenant(accountID: "acct_A", mode: .test))
        for (path, code) in [
            ("/v1/accounts/acct_B", StripeAPIError.Code.tenantMismatch),
            ("/v1/accounts/acct_B/persons", .tenantMismatch),
            ("https://evil.example/v1/customers", .invalidCall),
            ("/v1/customers/../accounts/acct_B", .invalidCall),
            ("/v1//accounts", .invalidCall),
            ("/v1/customers?limit=1", .invalidCall),
            ("v1/customers", .invalidCall),
        ] {
            let error = await #expect(throws: StripeAPIError.self, "\(path)") { try await client.get(path) }
            #expect(error?.code == code, "\(path)")
        }
        let injected = await #expect(throws: StripeAPIError.self) {
            try await client.customers.retrieve("cus_1/../../accounts/acct_B")
        }
        #expect(injected?.code == .invalidCall)
        // Its own account is fine (and fails only because nothing listens).
        let own = await #expect(throws: StripeAPIError.self) { try await client.account.retrieve() }
        #expect(own?.code == .connection || own?.code == .timeout)
    }

    @Test("retry rules: 429, 5xx and Stripe-Should-Retry: true retry; other 4xx and false never do")
    func retryRules() {
        #expect(RetryPolicy.isRetryable(status: 429, shouldRetryHeader: nil))
        #expect(RetryPolicy.isRetryable(status: 500, shouldRetryHeader: nil))
        #expect(RetryPolicy.isRetryable(status: 503, shouldRetryHeader: nil))
        #expect(RetryPolicy.isRetryable(status: 409, shouldRetryHeader: "true"))
        for status in [400, 401, 402, 403, 404, 409] {
            #expect(!RetryPolicy.isRetryable(status: status, shouldRetryHeader: nil), "\(status)")
        }
        #expect(!RetryPolicy.isRetryable(status: 500, shouldRetryHeader: "false"))
        #expect(!RetryPolicy.isRetryable(status: 429, shouldRetryHeader: "false"))
    }

    @Test("backoff doubles, is capped, jitters within half to full, and honours Retry-After up to the cap")
    func backoff() {
        let policy = RetryPolicy(maximumRetries: 5, initialDelay: .milliseconds(500), maximumDelay: .seconds(4))
        #expect(policy.delay(beforeRetry: 0, jitter: 1) == .milliseconds(500))
        #expect(policy.delay(beforeRetry: 1, jitter: 1) == .seconds(1))
        #expect(policy.delay(beforeRetry: 2, jitter: 1) == .seconds(2))
        #expect(policy.delay(beforeRetry: 3, jitter: 1) == .seconds(4))
        #expect(policy.delay(beforeRetry: 9, jitter: 1) == .seconds(4))
        #expect(policy.delay(beforeRetry: 1, jitter: 0) == .milliseconds(500))
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(2), jitter: 0) == .seconds(2))
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(60), jitter: 0) == .seconds(4))
    }

    @Test("error bodies decode: every field of an API error, and the OAuth endpoint's flat form")
    func errorBodies() {
        let card = StripeAPIError.decoding(
            status: 402,
            body: Array(
                #"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds.","param":"source","doc_url":"https://stripe.com/docs/error-codes/card-declined"}}"#
                    .utf8),
            requestID: "req_1"
        )
        #expect(card.code == .card)
        #expect(card.type == "card_error")
        #expect(card.stripeCode == "card_declined")
        #expect(card.declineCode == "insufficient_funds")
        #expect(card.param == "source")
        #expect(card.docURL == "https://stripe.com/docs/error-codes/card-declined")
        #expect(card.requestID == "req_1")
        #expect(card.httpStatus == 402)
        let oauth = StripeAPIError.decoding(
            status: 400,
            body: Array(
                #"{"error":"invalid_grant","error_description":"Authorization code expired: ac_123456789"}"#.utf8)
        )
        #expect(oauth.code == .oauth)
        #expect(oauth.stripeCode == "invalid_grant")
        #expect(!oauth.message.contains("ac_123456789"))
        let idempotency = StripeAPIError.decoding(
            status: 400,
            body: Array(
                #"{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}"#
                    .utf8))
        #expect(idempotency.code == .idempotency)
        let html = StripeAPIError.decoding(status: 502, body: Array("<html>bad gateway</html>".utf8))
        #expect(html.code == .server)
        #expect(StripeAPIError.decoding(status: 403, body: []).code == .permission)
    }

    @Test("idempotency keys: random ones differ, event keys are deterministic, bad keys are refused")
    func idempotencyKeys() throws {
        #expect(IdempotencyKey.random() != IdempotencyKey.random())
        #expect(try IdempotencyKey.event("evt_1", step: "create-customer").rawValue == "evt_1:create-customer")
        #expect(try IdempotencyKey.event("evt_1", step: "a") == IdempotencyKey.event("evt_1", step: "a"))
        #expect(throws: StripeAPIError.self) { try IdempotencyKey(String(repeating: "k", count: 256)) }
        #expect(throws: StripeAPIError.self) { try IdempotencyKey("has space") }
    }
}
