import Foundation
import StripeApps
import StripeAppsSQLite
import StripeAppsTesting
import Testing

/// `events recover` end to end: the built executable, a SQLite file and the fake Stripe over HTTP.
@Suite struct EventsRecoverCommandTests {
    static let account = "acct_1RecoverCommand00"

    @Test("recover stores undelivered events once, says what it did, and is safe to run twice")
    func recoverTwice() async throws {
        let fake = FakeStripe()
        fake.addAccount(Self.account)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let databasePath = directory.appendingPathComponent("app.sqlite").path
        do {
            let store = try SQLiteStorage(location: try #require(try DatabaseURL("sqlite:\(databasePath)").sqlite))
            try await store.migrate()
            let tenant = Tenant(accountID: Self.account, mode: .test)
            _ = try await store.installations.apply(
                InstallationChange(
                    tenant: tenant, action: .activate, source: .installCallback, occurredAt: Date(), recordedAt: Date())
            )
        }
        let missed = [
            fake.addEvent(type: "invoice.paid", account: Self.account, deliverySuccess: false),
            fake.addEvent(type: "customer.updated", account: Self.account, deliverySuccess: false),
        ]
        fake.addEvent(type: "customer.updated", account: Self.account, deliverySuccess: true)

        try await fake.withServer { url in
            let environment = [
                "STRIPE_API_BASE_URL": url.absoluteString,
                "STRIPE_SECRET_KEY_TEST": fake.testSecretKey,
                "DATABASE_URL": "sqlite:\(databasePath)",
            ]
            let first = try await runProcessAsync(
                ExternalTool.backend, ["events", "recover", "--mode", "test"], environment: environment,
                currentDirectory: directory)
            #expect(first.status == 0, "\(first.standardError)")
            #expect(first.standardOutput.contains("1 installations, 2 undelivered events listed, 2 new in the inbox"))
            let second = try await runProcessAsync(
                ExternalTool.backend, ["events", "recover", "--mode", "test"], environment: environment,
                currentDirectory: directory)
            #expect(second.status == 0)
            #expect(second.standardOutput.contains("0 new in the inbox, 2 already there"))

            let unconfigured = try await runProcessAsync(
                ExternalTool.backend, ["events", "recover", "--mode", "live"], environment: environment,
                currentDirectory: directory)
            #expect(unconfigured.status == 1)
            #expect(unconfigured.standardError.contains("missing_credential: STRIPE_SECRET_KEY_LIVE is not set"))
            let invalid = try await runProcessAsync(
                ExternalTool.backend, ["events", "recover", "--mode", "sandbox"], environment: environment,
                currentDirectory: directory)
            #expect(invalid.status == 2)
            #expect(invalid.standardError.contains("invalid_mode"))
            for output in [first, second, unconfigured, invalid] {
                #expect(!(output.standardOutput + output.standardError).contains(fake.testSecretKey))
            }
        }
        let store = try SQLiteStorage(location: try #require(try DatabaseURL("sqlite:\(databasePath)").sqlite))
        let inbox = try await store.inbox.events(status: nil, limit: 10)
        #expect(Set(inbox.map(\.id)) == Set(missed))
        #expect(inbox.allSatisfy { $0.accountID == Self.account && $0.status == .pending })
    }
}
