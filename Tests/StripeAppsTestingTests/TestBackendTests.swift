import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Synchronization
import Testing

/// The testing kit drives the real application: every step a test takes goes through the routes, the inbox and
/// the job queue as in production, and nothing runs until the test says so.
@Suite struct TestBackendTests {
    static let tenant = Tenant(accountID: "acct_1KitTenant00000", mode: .test)

    /// What the handlers below saw, in order.
    final class Seen: Sendable {
        let items = Mutex<[String]>([])
        func add(_ item: String) { items.withLock { $0.append(item) } }
        var all: [String] { items.withLock { $0 } }
    }

    @Test func aSignedCallReachesTheAppsRouteOnlyWhileInstalled() async throws {
        let echo = ApplicationHooks(configureAPI: { api in
            api.post("echo") { _, context in Response.json(.string(try context.user.tenant().accountID)) }
        })
        try await withTestBackend(
            hooks: { _ in echo },
            { backend in
                let user = TestUser(tenant: Self.tenant)
                let before = try await backend.call(.post, "/api/echo", as: user)
                #expect(before.status == .forbidden, "not installed yet")
                let installed = try await backend.install(Self.tenant)
                #expect(installed.status == .found)
                #expect(
                    installed.headers[.location]?.hasPrefix("https://dashboard.stripe.com/acct_1KitTenant00000/test/")
                        == true)
                let after = try await backend.call(.post, "/api/echo", as: user)
                #expect(after.status == .ok)
                #expect(String(buffer: after.body) == #""acct_1KitTenant00000""#)
                let settings = try await backend.call(.get, "/api/settings", as: user)
                #expect(settings.status == .ok, "a GET signs the ids it sends as headers")
            })
    }

    @Test func deliveriesWaitUntilTheTestRunsThemAndRetriesWaitForTheClock() async throws {
        let seen = Seen()
        let failures = Mutex(1)
        var handlers = EventHandlers()
        handlers.on("customer.created") { context in
            seen.add(context.event.id)
            let fails = failures.withLock { count in
                defer { count -= 1 }
                return count > 0
            }
            if fails { throw TestFailure() }
        }
        let hooks = ApplicationHooks(eventHandlers: handlers)
        try await withTestBackend(
            hooks: { _ in hooks },
            { backend in
                let customer = try #require(StripeFixtures.object("customer")).setting("id", .string("cus_1"))
                let event = TestEvent(
                    "customer.created", account: Self.tenant.accountID, id: "evt_kit_1", object: customer)
                #expect(try await backend.deliver(event).status == .ok)
                #expect(String(buffer: try await backend.deliver(event).body).contains(#""duplicate":true"#))
                #expect(seen.all.isEmpty, "nothing runs before the test says so")

                #expect(try await backend.processEvents() == 1)
                #expect(seen.all == ["evt_kit_1"])
                #expect(try await backend.events(.failed).map(\.id) == ["evt_kit_1"])
                #expect(try await backend.processEvents() == 0, "the retry is not due yet")

                backend.clock.advance(by: .seconds(60))
                #expect(try await backend.processEvents() == 1)
                #expect(seen.all == ["evt_kit_1", "evt_kit_1"])
                #expect(try await backend.events(.succeeded).map(\.id) == ["evt_kit_1"])
            })
    }

    @Test func installRunsTheInstallHookAndUninstallThePurge() async throws {
        let seen = Seen()
        let hooks = ApplicationHooks(
            onInstall: { completion in seen.add("installed \(completion.tenant) by \(completion.userID ?? "-")") },
            lifecycle: InstallLifecycle(purge: { tenant, _ in seen.add("purged \(tenant)") }))
        try await withTestBackend(
            hooks: { _ in hooks },
            { backend in
                try await backend.install(Self.tenant, userID: "usr_kit")
                #expect(seen.all == ["installed acct_1KitTenant00000/test by usr_kit"])
                #expect(try await backend.storage.installations.installation(for: Self.tenant)?.status == .active)
                backend.clock.advance(by: .seconds(10))
                try await backend.uninstall(Self.tenant)
                #expect(seen.all.last == "purged acct_1KitTenant00000/test")
                #expect(try await backend.storage.installations.installation(for: Self.tenant)?.status == .inactive)
            })
    }

    struct Tick: JobParameters {
        static let jobName = "kit-tick"
    }

    @Test func scheduledJobsRunPerInstallationWhenTheClockReachesTheirSlot() async throws {
        let seen = Seen()
        var registry = JobRegistry()
        registry.registerJob(parameters: Tick.self) { _, context in
            seen.add("tick \(context.tenant?.description ?? "-")")
        }
        try registry.addSchedule("kit-tick", try .hourly(minute: 0), parameters: Tick(), perInstallation: true)
        let jobs = registry
        try await withTestBackend(
            hooks: { setup in
                var hooks = ApplicationHooks()
                hooks.jobWorker = jobWorker(
                    configuration: setup.configuration, storage: setup.storage, registry: jobs, now: setup.now,
                    logger: setup.logger)
                return hooks
            },
            { backend in
                try await backend.install(Self.tenant)
                #expect(try await backend.runJobs() == 0, "registered now: the next slot is an hour away")
                backend.clock.advance(by: .seconds(3600))
                #expect(try await backend.runJobs() >= 1)
                #expect(seen.all == ["tick acct_1KitTenant00000/test"])
                #expect(try await backend.runJobs() == 0, "each slot once")
            })
    }

    @Test func theFakeServiceRecordsFailsAndReplaysIdempotentRequests() async throws {
        let crm = FakeHTTPService()
        let created = Mutex(0)
        crm.on(.post, "/v1/contacts") { request in
            let id = created.withLock { count in
                count += 1
                return "ct_\(count)"
            }
            return .json(
                .object([PayloadField("id", .string(id)), PayloadField("email", request.json?["email"] ?? .null)]),
                status: .created)
        }
        crm.fail(next: 1, with: .serviceUnavailable)
        try await crm.withServer { url in
            func send(_ method: HTTPMethod, _ path: String, key: String? = nil) async throws -> (UInt, String) {
                var request = HTTPClientRequest(url: url.absoluteString + path)
                request.method = method
                request.headers.add(name: "Authorization", value: "Bearer crm_key")
                if let key { request.headers.add(name: "Idempotency-Key", value: key) }
                if method == .POST { request.body = .bytes(ByteBuffer(string: #"{"email":"a@example.com"}"#)) }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            #expect(try await send(.POST, "/v1/contacts", key: "k1").0 == 503, "the outage")
            let first = try await send(.POST, "/v1/contacts", key: "k1")
            #expect(first.0 == 201 && first.1.contains(#""id":"ct_1""#))
            let again = try await send(.POST, "/v1/contacts", key: "k1")
            #expect(again.0 == 201 && again.1.contains(#""id":"ct_1""#), "the same key gets the first answer")
            #expect(try await send(.POST, "/v1/contacts", key: "k2").1.contains(#""id":"ct_2""#))
            #expect(try await send(.GET, "/v1/unknown").0 == 404)
        }
        #expect(crm.requests.map(\.status.code) == [503, 201, 201, 201, 404])
        #expect(crm.requests.map(\.isReplay) == [false, false, true, false, false])
        #expect(crm.applied(.post, "/v1/contacts").count == 2)
        #expect(crm.requests[1].authorization == "Bearer crm_key")
        #expect(crm.requests[1].json?["email"]?.stringValue == "a@example.com")
    }

    /// In development mode the signers use the secrets the backend generated and keeps in storage.
    @Test func inDevelopmentModeTheSignersUseTheBackendsOwnSecrets() async throws {
        let development = AppConfiguration(port: 0, databaseURL: "sqlite::memory:")
        try await withTestBackend(configuration: development) { backend async throws in
            let user = TestUser(tenant: Self.tenant)
            #expect(try await backend.call(.post, "/api/whoami", as: user).status == .ok)
            let event = TestEvent.installed(Self.tenant, created: backend.clock.now)
            #expect(try await backend.deliver(event).status == .ok)
            #expect(try await backend.processEvents() == 1)
            #expect(try await backend.storage.installations.installation(for: Self.tenant)?.status == .active)
        }
    }

    struct TestFailure: Error {}
}
