import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Synchronization
import Testing

/// Storage that migrated at start, then went away: every store throws ``StoreError/Code/unavailable``.
final class UnavailableStorage: StorageBackend {
    func fail() -> StoreError { StoreError(.unavailable, message: "down") }
    var installations: UnavailableStorage { self }
    var settings: UnavailableStorage { self }
    var installStates: UnavailableStorage { self }
    var credentials: UnavailableStorage { self }
    var metadata: UnavailableStorage { self }
    var inbox: UnavailableStorage { self }
    var jobs: UnavailableStorage { self }
    var schedules: UnavailableStorage { self }
    var admin: UnavailableStorage { self }
    var statistics: UnavailableStorage { self }
    func run() async throws { await waitUntilCancelled() }
    func migrate() async throws {}
    func appliedMigrations() async throws -> [String] { [] }
    func checkHealth() async throws { throw fail() }
}

extension UnavailableStorage: InstallationStore, SettingsStore, InstallStateStore, CredentialStore, MetadataStore,
    EventInbox, JobQueue, ScheduleStore, AdminStore,
    StorageStatistics
{
    func events(matching filter: InboxFilter, after position: String?, limit: Int) async throws -> [InboxEvent] {
        throw fail()
    }
    func event(id: String) async throws -> InboxEvent? { throw fail() }
    func replay(id: String, by action: AdminAction) async throws -> InboxEvent? { throw fail() }
    func replayAll(matching filter: InboxFilter, limit: Int, by action: AdminAction) async throws -> Int {
        throw fail()
    }
    func discard(id: String, by action: AdminAction) async throws -> InboxEvent? { throw fail() }
    func installations(matching filter: InstallationFilter, after position: Tenant?, limit: Int) async throws
        -> [Installation]
    { throw fail() }
    func installationCounts() async throws -> [InstallationCount] { throw fail() }
    func block(_ tenant: Tenant, reason: String?, by action: AdminAction) async throws -> Installation? {
        throw fail()
    }
    func unblock(_ tenant: Tenant, by action: AdminAction) async throws -> Installation? { throw fail() }
    func inboxCounts() async throws -> InboxCounts { throw fail() }
    func jobCounts() async throws -> JobCounts { throw fail() }
    func advance(
        schedule name: String, now: Date, withInstallations: Bool, plan: @Sendable (ScheduleCursor) -> SchedulePlan
    ) async throws -> (plan: SchedulePlan, pushed: Int)? { throw fail() }
    func push(_ job: NewJob, now: Date) async throws -> JobRecord? { throw fail() }
    func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedJob] { throw fail() }
    func complete(_ claim: ClaimedJob, now: Date) async throws -> Bool { throw fail() }
    func fail(_ claim: ClaimedJob, error: String, retryAt: Date?, now: Date) async throws -> Bool { throw fail() }
    func stopped(_ claim: ClaimedJob, now: Date) async throws -> Bool { throw fail() }
    func heartbeat(_ claims: [ClaimedJob], now: Date, lease: Duration) async throws -> [String: Bool] { throw fail() }
    func recordProgress(_ claim: ClaimedJob, fraction: Double?, message: String?) async throws -> Bool {
        throw fail()
    }
    func cancel(id: String, now: Date) async throws -> JobRecord? { throw fail() }
    func replay(id: String, now: Date) async throws -> Bool { throw fail() }
    func job(id: String) async throws -> JobRecord? { throw fail() }
    func jobs(status: JobRecord.Status?, limit: Int) async throws -> [JobRecord] { throw fail() }
    func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int { throw fail() }
    func schedules() async throws -> [ScheduleRecord] { throw fail() }
    func latestRuns(of schedule: String) async throws -> [JobRecord] { throw fail() }
    func installation(for tenant: Tenant) async throws -> Installation? { throw fail() }
    func installations() async throws -> [Installation] { throw fail() }
    func apply(_ change: InstallationChange) async throws -> InstallationChange.Outcome { throw fail() }
    func settings(for tenant: Tenant) async throws -> SettingsDocument { throw fail() }
    func updateSettings(
        for tenant: Tenant,
        expectedVersion: Int,
        _ update: @Sendable (inout [String: PayloadValue]) throws -> Void
    ) async throws -> SettingsDocument { throw fail() }
    func save(_ state: InstallState) async throws { throw fail() }
    func consume(_ kind: InstallState.Kind, hash: String, now: Date) async throws -> InstallState? { throw fail() }
    func state(hash: String, now: Date) async throws -> InstallState? { throw fail() }
    func complete(hash: String, now: Date, _ followUp: @Sendable (InstallState) -> InstallFollowUp) async throws
        -> InstallState?
    { throw fail() }
    func deleteExpired(now: Date) async throws -> Int { throw fail() }
    func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential? { throw fail() }
    func saveCredential(
        _ sealed: [UInt8],
        named name: String,
        for tenant: Tenant,
        expectedVersion: Int?,
        at date: Date
    ) async throws -> StoredCredential { throw fail() }
    func credentials(after position: StoredCredential.ID?, limit: Int) async throws -> [StoredCredential] {
        throw fail()
    }
    func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool { throw fail() }
    func auditRecords(for tenant: Tenant) async throws -> [AuditRecord] { throw fail() }
    func value(forKey key: String, insertingIfMissing value: String) async throws -> String { throw fail() }
    func value(forKey key: String) async throws -> String? { throw fail() }
    func enqueue(_ event: InboxEvent) async throws -> InboxArrival { throw fail() }
    func enqueue(_ event: InboxEvent, claimingFor owner: String, now: Date, lease: Duration) async throws
        -> InboxArrival
    { throw fail() }
    func events(status: InboxEvent.Status?, limit: Int) async throws -> [InboxEvent] { throw fail() }
    func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedEvent] { throw fail() }
    func complete(_ claim: ClaimedEvent) async throws -> Bool { throw fail() }
    func fail(_ claim: ClaimedEvent, error: String, retryAt: Date?) async throws -> Bool { throw fail() }
    func setAsideBlocked(_ claim: ClaimedEvent) async throws -> Bool { throw fail() }
    func heartbeat(_ claims: [ClaimedEvent], now: Date, lease: Duration) async throws -> Set<String> { throw fail() }
    func replay(id: String) async throws -> Bool { throw fail() }
    func prune(receivedIn range: Range<Date>, limit: Int) async throws -> Int { throw fail() }
}

@Suite struct OperationsTests {
    @Test func healthAndReadiness() async throws {
        try await withTestApp { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(health.text == #"{"status":"ok"}"#)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
        }
        try await withTestApp(storage: UnavailableStorage()) { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.errorCode == "storage_unavailable")
            let whoami = try await client.execute(
                "/api/whoami", .post, signer.post(userID: "usr_u", accountID: "acct_a", mode: .test))
            #expect(whoami.status == .serviceUnavailable)
        }
    }

    @Test func corsOnlyOnUIRoutes() async throws {
        try await withTestApp { client in
            let preflight = try await client.execute(
                uri: "/api/settings",
                method: .options,
                headers: [
                    .origin: "null", .accessControlRequestMethod: "POST",
                    .accessControlRequestHeaders: "content-type, stripe-signature",
                ]
            )
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "*")
            let allowedHeaders = preflight.headers[.accessControlAllowHeaders]?.lowercased() ?? ""
            for name in ["content-type", "stripe-signature", "stripe-user-id", "stripe-account-id", "stripe-mode"] {
                #expect(allowedHeaders.contains(name))
            }
            // Only the methods UI routes accept: the built-in ones are GET and POST (their 405 answers do not count).
            #expect(preflight.headers[.accessControlAllowMethods] == "GET, OPTIONS, POST")
            #expect(preflight.headers[.accessControlMaxAge] == "600")
            #expect(preflight.headers[.accessControlAllowCredentials] == nil)

            let signed = try await client.execute(
                "/api/whoami", .post, signer.post(userID: "usr_u", accountID: "acct_a"))
            #expect(signed.headers[.accessControlAllowOrigin] == "*")
            let notFound = try await client.execute(uri: "/api/missing", method: .get, headers: [.origin: "null"])
            #expect(notFound.headers[.accessControlAllowOrigin] == "*")

            for uri in ["/healthz", "/readyz", "/missing", "/apix"] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.origin: "null"])
                #expect(response.headers[.accessControlAllowOrigin] == nil, "\(uri)")
                let options = try await client.execute(
                    uri: uri, method: .options, headers: [.origin: "null", .accessControlRequestMethod: "GET"])
                #expect(options.headers[.accessControlAllowOrigin] == nil, "\(uri)")
                #expect(options.status != .noContent)
            }
        }
    }

    /// Issue 17, item 7: the preflight's `Access-Control-Allow-Methods` grows with the app's own UI routes, and
    /// only with them.
    @Test func corsAllowsTheMethodsOfTheAppsOwnUIRoutes() async throws {
        let notes: @Sendable (RouterGroup<VerifiedRequestContext>) -> Void = { api in
            api.delete("notes/:id") { _, _ in HTTPResponse.Status.noContent }
            api.put("notes/:id") { _, _ in HTTPResponse.Status.noContent }
        }
        try await withTestApp(configureAPI: notes) { client in
            let preflight = try await client.execute(
                uri: "/api/notes/1", method: .options,
                headers: [.origin: "null", .accessControlRequestMethod: "DELETE"])
            #expect(preflight.headers[.accessControlAllowMethods] == "DELETE, GET, OPTIONS, POST, PUT")
        }
        // The public middleware on its own takes the list it is given.
        let router = Router()
        router.add(middleware: UIRouteCORSMiddleware(allowedMethods: [.post]))
        router.post("api/ping") { _, _ in "pong" }
        try await Application(router: router).test(.router) { client in
            let preflight = try await client.execute(
                uri: "/api/ping", method: .options, headers: [.origin: "null", .accessControlRequestMethod: "POST"])
            #expect(preflight.headers[.accessControlAllowMethods] == "OPTIONS, POST")
        }
    }

    @Test func noSecretSignatureOrPayloadReachesLogsOrErrorBodies() async throws {
        let sink = LogSink()
        let marker = "PAYLOAD-MARKER-7f3a"
        let bodies = Mutex<[String]>([])
        let request = try signer.post(
            userID: "usr_1", accountID: "acct_1", mode: .test, extra: [PayloadField("note", .string(marker))])
        let signature = try #require(request.headers[.stripeSignature])
        let mac = String(signature.split(separator: "=").last ?? "")
        let installed = [Tenant(accountID: "acct_a", mode: .test)]
        try await withTestApp(installed: installed, logger: sink.logger) { client in
            var cases = [request]
            var tampered = request
            tampered.body = ByteBuffer(string: #"{"note":"\#(marker)","user_id":"usr_1","account_id":"acct_2"}"#)
            cases.append(tampered)
            cases.append(
                try signer.post(
                    userID: "usr_1", accountID: "acct_1", extra: [PayloadField("note", .string(marker))], timestamp: 1))
            cases.append(signer.post(rawBody: Array("{\"\(marker)\"".utf8)))
            for item in cases {
                let text = try await client.execute("/api/whoami", .post, item).text
                bodies.withLock { $0.append(text) }
            }
            let settings = try await client.execute(
                "/api/settings",
                .post,
                signer.post(
                    userID: "usr_u",
                    accountID: "acct_a",
                    mode: .test,
                    extra: [
                        PayloadField("version", .number(0)),
                        PayloadField("theme", .object([PayloadField("x", .string(marker))])),
                        PayloadField("bad name!", .string(marker)),
                    ]
                )
            ).text
            bodies.withLock { $0.append(settings) }
        }
        let logs = sink.all
        #expect(logs.contains("acct_1"), "the tenant is logged")
        #expect(logs.contains("hb.request.id"), "the request id is logged")
        for text in [logs] + bodies.withLock({ $0 }) {
            #expect(!text.contains(appSecret))
            #expect(!text.contains(oldAppSecret))
            #expect(!text.contains(mac))
            #expect(!text.contains(String(mac.prefix(16))))
            #expect(!text.contains(marker))
        }
    }
}
