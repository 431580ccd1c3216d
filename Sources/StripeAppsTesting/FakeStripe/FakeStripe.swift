public import Foundation
public import StripeApps
import Synchronization

/// An in-process fake of the Stripe API, served over real HTTP, for testing Stripe App backends and Stripe
/// API clients.
///
/// ```swift
/// let stripe = FakeStripe()
/// stripe.addAccount("acct_1")
/// stripe.injectFault(.rateLimited(code: "lock_timeout"), path: "/v1/customers")
/// try await stripe.withServer { baseURL in
///     // Point the client under test at baseURL and use stripe.testSecretKey …
/// }
/// #expect(stripe.requests.map(\.status) == [429, 200])
/// ```
///
/// ## Faithful to Stripe
/// - The wire format: form-encoded requests with bracketed keys (`metadata[k]`, `expand[]`, `scope[type]`,
///   `items[0][price]`; GET parameters in the query), JSON answers, a `Request-Id` on every answer, Stripe's error
///   envelope `{"error":{"type","code","message","param","doc_url"}}` and statuses, and unknown parameters
///   rejected with `parameter_unknown`.
/// - Authentication with `Bearer` or `Basic` keys; keys are masked in messages (`sk_test_****abcd`); the mode
///   comes from the key; `Stripe-Account` only with the platform key, for connected accounts.
/// - Data kept apart per account and mode.
/// - Idempotency keys per account and mode: byte-identical replays with `Idempotent-Replayed: true` and
///   `Original-Request`, `idempotency_error` for a different endpoint or different parameters, nothing saved for
///   requests that failed parameter validation.
/// - Cursor pagination (`limit` 1…100, `starting_after`, `ending_before`, `has_more`, newest first).
/// - OAuth codes that are single use (reuse revokes the tokens they produced) and expire after 5 minutes, and
///   refresh tokens that rotate.
///
/// ## Simplified
/// - Only these endpoints exist: `GET /v1/account`, `GET /v1/accounts/{id}`, customers (create, retrieve, list
///   by `email`/`created`), events (retrieve, list by `type`, `types[]`, `delivery_success`, `created`), the Apps
///   Secret Store (`/v1/apps/secrets`, `/find`, `/delete`) and `POST /v1/oauth/token` (also at `/oauth/token`).
///   Everything else is a 404 "Unrecognized request URL".
/// - Objects are `fixtures3.json` examples with the fields the fake knows replaced; other fields are static.
/// - Nothing expands except a secret's `payload` (`data.payload` in lists); events have no 30-day window and are
///   never delivered to webhooks; restricted keys may do everything; `Stripe-Version` is recorded and echoed but
///   changes nothing; a scope holds at most ``secretLimitPerScope`` secrets (more fail with code
///   `secret_limit_exceeded`); there are no rate limits except injected ones.
/// - OAuth access tokens look like `sk_test_oauth_…` and expire after `expires_in` seconds of the injected clock
///   (then 401 with code `api_key_expired`).
public final class FakeStripe: Sendable {
    /// The platform's own account, the one its secret keys act on without `Stripe-Account`.
    public let platformAccountID: String
    /// The platform secret key of test mode.
    public let testSecretKey: String
    /// The platform secret key of live mode.
    public let liveSecretKey: String
    /// The default live platform key: assembled from parts so that secret scanners, which rightly flag anything
    /// shaped like a committed live key, are not set off by a fake one.
    public static let defaultLiveSecretKey = "sk_" + "live_" + "FakeStripePlatformKey"
    /// The most secrets one Secret Store scope holds.
    public static let secretLimitPerScope = FakeStripeState.secretLimitPerScope

    let settings: FakeStripeSettings
    let now: @Sendable () -> Date
    let state = Mutex(FakeStripeState())

    /// Creates an empty fake.
    ///
    /// - Parameters:
    ///   - platformAccountID: The platform's own account id.
    ///   - testSecretKey: The platform secret key of test mode.
    ///   - liveSecretKey: The platform secret key of live mode.
    ///   - apiVersion: The `api_version` of events, and the `Stripe-Version` answered when a request has none.
    ///   - accessTokenLifetime: How long OAuth access tokens work (`expires_in`).
    ///   - now: The clock deciding `created`, expiries and OAuth lifetimes; see ``FakeClock``.
    public init(
        platformAccountID: String = "acct_platform",
        testSecretKey: String = "sk_test_FakeStripePlatformKey",
        liveSecretKey: String = FakeStripe.defaultLiveSecretKey,
        apiVersion: String = "2024-06-20",
        accessTokenLifetime: Duration = .seconds(3600),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.platformAccountID = platformAccountID
        self.testSecretKey = testSecretKey
        self.liveSecretKey = liveSecretKey
        self.now = now
        self.settings = FakeStripeSettings(
            platformAccountID: platformAccountID,
            testSecretKey: testSecretKey,
            liveSecretKey: liveSecretKey,
            apiVersion: apiVersion,
            accessTokenLifetime: max(1, accessTokenLifetime.components.seconds),
            fixtures: .shared
        )
    }

    /// The platform secret key of `mode`.
    public func secretKey(for mode: Tenant.Mode) -> String {
        mode.isLive ? liveSecretKey : testSecretKey
    }

    // MARK: Setup

    /// Registers a connected account, reachable with the platform key and `Stripe-Account: id` in both modes.
    public func addAccount(_ id: String) {
        state.withLock { _ = $0.connectedAccounts.insert(id) }
    }

    /// Issues a restricted key (`rk_test_…`/`rk_live_…`) acting on `account` (the platform when `nil`) in `mode`.
    public func issueRestrictedKey(account: String? = nil, mode: Tenant.Mode = .test) -> String {
        let key = FakeStripeIdentifiers.make("rk_\(mode)_", length: 24)
        let tenant = Tenant(accountID: account ?? platformAccountID, mode: mode)
        state.withLock { $0.restrictedKeys[key] = tenant }
        return key
    }

    /// Issues an OAuth authorization code (`ac_…`) for `account` in `mode`, as Stripe's redirect would deliver it.
    ///
    /// The code can be exchanged once, within 5 minutes of the injected clock, with the platform key of the same
    /// mode; the exchange connects `account` to the platform.
    public func issueAuthorizationCode(account: String, mode: Tenant.Mode = .test) -> String {
        let now = now()
        return state.withLock { $0.issueAuthorizationCode(for: Tenant(accountID: account, mode: mode), now: now) }
    }

    /// Stores an event, as if Stripe had emitted it, and returns its id (`evt_…`).
    ///
    /// - Parameters:
    ///   - type: The event type, such as `customer.updated`.
    ///   - account: The account it belongs to; `nil` for the platform. Connected accounts' events carry `account`.
    ///   - mode: The mode it belongs to.
    ///   - object: `data.object`.
    ///   - deliverySuccess: Whether all webhook deliveries succeeded (`pending_webhooks` 0, else 1); what
    ///     `delivery_success` filters on.
    ///   - created: Its `created` time; `nil` for the injected clock's now.
    @discardableResult
    public func addEvent(
        type: String,
        account: String? = nil,
        mode: Tenant.Mode = .test,
        object: PayloadValue = .object([]),
        deliverySuccess: Bool = true,
        created: Date? = nil
    ) -> String {
        let timestamp = Int64((created ?? now()).timeIntervalSince1970.rounded(.down))
        let tenant = Tenant(accountID: account ?? platformAccountID, mode: mode)
        return state.withLock { state in
            state.recordEvent(
                type: type,
                tenant: tenant,
                object: object,
                deliverySuccess: deliverySuccess,
                created: timestamp,
                request: (nil, nil),
                settings: settings
            )
        }
    }

    // MARK: Faults

    /// Queues `fault` for the next `count` requests matching `path` and `method`.
    ///
    /// Faults are consumed first in, first out: each request takes the oldest queued fault that matches it, before
    /// authentication and before it executes.
    ///
    /// - Parameters:
    ///   - fault: What happens to the request.
    ///   - count: How many requests it hits.
    ///   - path: The exact path (no query), such as `/v1/customers`; a trailing `*` matches any path with that
    ///     prefix; `nil` matches every path.
    ///   - method: The method, such as `POST`; `nil` matches every method.
    public func injectFault(_ fault: Fault, count: Int = 1, path: String? = nil, method: String? = nil) {
        guard count > 0 else { return }
        let queued = FakeStripeState.QueuedFault(fault: fault, path: path, method: method)
        state.withLock { $0.faults.append(contentsOf: repeatElement(queued, count: count)) }
    }

    /// How many injected faults are still waiting for a request.
    public var pendingFaultCount: Int {
        state.withLock { $0.faults.count }
    }

    /// Forgets the faults still waiting.
    public func clearFaults() {
        state.withLock { $0.faults.removeAll() }
    }

    // MARK: Inspection

    /// Every request received so far, in arrival order.
    public var requests: [RecordedRequest] {
        state.withLock { $0.requests }
    }

    /// Forgets the recorded requests.
    public func clearRequests() {
        state.withLock { $0.requests.removeAll() }
    }

    /// How many refresh-token grants succeeded, for all accounts.
    public var refreshCount: Int {
        state.withLock { $0.refreshCounts.values.reduce(0, +) }
    }

    /// How many refresh-token grants succeeded for `account`.
    public func refreshCount(account: String) -> Int {
        state.withLock { $0.refreshCounts[account] ?? 0 }
    }

    /// Forgets everything (data, accounts, keys, tokens, faults, requests, counters); the configuration stays.
    public func reset() {
        state.withLock { $0 = FakeStripeState() }
    }
}
