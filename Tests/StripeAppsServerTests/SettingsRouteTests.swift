import HTTPTypes
import HummingbirdTesting
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Testing

@Suite struct SettingsRouteTests {
    /// The tenants these tests use, with the app installed (tenant routes refuse others).
    static let installed = ["acct_1", "acct_2"].flatMap { account in
        [Tenant(accountID: account, mode: .test), Tenant(accountID: account, mode: .live)]
    }

    func write(
        _ client: some TestClientProtocol,
        mode: Tenant.Mode? = .test,
        account: String = "acct_1",
        _ fields: [PayloadField]
    ) async throws -> TestResponse {
        try await client.execute(
            "/api/settings", .post, signer.post(userID: "usr_1", accountID: account, mode: mode, extra: fields))
    }

    func read(_ client: some TestClientProtocol, mode: Tenant.Mode? = .test, account: String = "acct_1") async throws
        -> TestResponse
    {
        try await client.execute("/api/settings", .get, signer.get(userID: "usr_1", accountID: account, mode: mode))
    }

    @Test func writeThenReadWithOptimisticConcurrency() async throws {
        let sink = LogSink()
        try await withTestApp(installed: Self.installed, logger: sink.logger) { client in
            let empty = try await read(client)
            #expect(empty.status == .ok)
            #expect(empty.text == #"{"account_id":"acct_1","mode":"test","version":0,"values":{},"updated_at":null}"#)

            let first = try await write(
                client,
                [
                    PayloadField("version", .number(0)), PayloadField("theme", .string("dark")),
                    PayloadField("limit", .number(10)), PayloadField("beta", .bool(true)),
                ])
            #expect(first.status == .ok)
            #expect(try first.json()["version"] == .number(1))

            let second = try await write(
                client,
                [
                    PayloadField("version", .number(1)), PayloadField("unset", .string("beta,limit")),
                    PayloadField("theme", .string("light")),
                ])
            #expect(try second.json()["values"] == .object([PayloadField("theme", .string("light"))]))

            let stale = try await write(
                client, [PayloadField("version", .number(1)), PayloadField("theme", .string("blue"))])
            #expect(stale.status == .conflict)
            #expect(stale.errorCode == "version_conflict")
            #expect(try stale.json()["error"]?["current_version"] == .number(2))
            // An expected conflict is the client's to resolve: logged at info, not as a storage error.
            let logged = await sink.line(containing: "version_conflict")
            #expect(logged?.hasPrefix("info request refused by storage") == true, "\(logged ?? "-")")
            #expect(!sink.all.contains("storage error"))

            let now = try await read(client)
            #expect(try now.json()["version"] == .number(2))
            #expect(try now.json()["values"]?["theme"] == .string("light"))
            #expect(try now.json()["updated_at"] == .number(1_700_000_000) || now.text.contains("updated_at"))
        }
    }

    @Test func testModeNeverSeesLiveData() async throws {
        try await withTestApp(installed: Self.installed) { client in
            _ = try await write(
                client, mode: .live, [PayloadField("version", .number(0)), PayloadField("key", .string("live-only"))])
            let test = try await read(client, mode: .test)
            #expect(try test.json()["values"] == .object([]))
            let live = try await read(client, mode: .live)
            #expect(try live.json()["values"]?["key"] == .string("live-only"))
            // Another account sees nothing either.
            #expect(try await read(client, mode: .live, account: "acct_2").json()["version"] == .number(0))
        }
    }

    @Test func tenantRoutesNeedASignedMode() async throws {
        try await withTestApp(installed: Self.installed) { client in
            let read = try await read(client, mode: nil)
            #expect(read.status == .badRequest)
            #expect(read.errorCode == "mode_required")
            let write = try await write(
                client, mode: nil, [PayloadField("version", .number(0)), PayloadField("a", .number(1))])
            #expect(write.errorCode == "mode_required")
        }
    }

    @Test(arguments: [
        [PayloadField("theme", .string("x"))],
        [PayloadField("version", .number(-1)), PayloadField("a", .number(1))],
        [PayloadField("version", .number(0.5)), PayloadField("a", .number(1))],
        [PayloadField("version", .string("0")), PayloadField("a", .number(1))],
        [PayloadField("version", .number(0))],
        [PayloadField("version", .number(0)), PayloadField("bad key", .number(1))],
        [PayloadField("version", .number(0)), PayloadField(String(repeating: "k", count: 65), .number(1))],
        [PayloadField("version", .number(0)), PayloadField("nested", .object([]))],
        [PayloadField("version", .number(0)), PayloadField("list", .array([]))],
        [PayloadField("version", .number(0)), PayloadField("nothing", .null)],
        [PayloadField("version", .number(0)), PayloadField("unset", .number(1))],
        [PayloadField("version", .number(0)), PayloadField("unset", .string("ok,bad name"))],
        [PayloadField("version", .number(0)), PayloadField("long", .string(String(repeating: "x", count: 4097)))],
    ])
    func invalidWritesAre400AndChangeNothing(_ fields: [PayloadField]) async throws {
        try await withTestApp(configuration: .testing(maximumBodyBytes: 16384), installed: Self.installed) { client in
            let response = try await write(client, fields)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_settings")
            #expect(try await read(client).json()["version"] == .number(0))
        }
    }

    @Test func documentOverTheLimitIs413AndNothingIsWritten() async throws {
        try await withTestApp(configuration: .testing(maximumSettingsBytes: 256), installed: Self.installed) { client in
            let first = try await write(
                client,
                [PayloadField("version", .number(0)), PayloadField("a", .string(String(repeating: "x", count: 200)))])
            #expect(first.status == .ok)
            let second = try await write(
                client,
                [PayloadField("version", .number(1)), PayloadField("b", .string(String(repeating: "y", count: 200)))])
            #expect(second.status == .contentTooLarge)
            #expect(second.errorCode == "settings_too_large")
            let after = try await read(client).json()
            #expect(after["version"] == .number(1))
            #expect(after["values"]?["b"] == nil)
        }
    }
}
