import Crypto
import Foundation
import StripeApps
import StripeAppsSQLite
import Testing

/// `credentials reseal` end to end: the built executable and a SQLite file, through a key rotation.
@Suite struct CredentialsResealCommandTests {
    static let tenants = [
        Tenant(accountID: "acct_1ResealCommand00", mode: .test),
        Tenant(accountID: "acct_1ResealCommand01", mode: .live),
    ]

    @Test("rotation: add the new key first, reseal, drop the old key, and everything still opens")
    func retireAKey() async throws {
        let oldKey = Data((0..<32).map { UInt8($0) })
        let newKey = Data((0..<32).map { UInt8(255 - $0) })
        let (old, new) = (oldKey.base64EncodedString(), newKey.base64EncodedString())
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reseal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let databasePath = directory.appendingPathComponent("app.sqlite").path
        let location = try #require(try DatabaseURL("sqlite:\(databasePath)").sqlite)
        do {
            let store = try SQLiteStorage(location: location)
            try await store.migrate()
            let credentials = TenantCredentials(store: store.credentials, cipher: try CredentialCipher(base64Keys: old))
            for tenant in Self.tenants {
                try await credentials.setSecret("mailer-secret-\(tenant.accountID)", named: "mailer", for: tenant)
            }
            // Written by an earlier release, in the format without the version.
            let legacy = try credentials.cipher.sealLegacy(
                Array("oauth-secret".utf8), for: Self.tenants[0], name: "stripe.oauth")
            _ = try await store.credentials.saveCredential(
                legacy, named: "stripe.oauth", for: Self.tenants[0], expectedVersion: 0, at: Date())
        }
        func reseal(_ keys: String, _ arguments: [String] = []) async throws -> ProcessOutput {
            let output = try await runProcessAsync(
                ExternalTool.backend, ["credentials", "reseal"] + arguments,
                environment: ["DATABASE_URL": "sqlite:\(databasePath)", "ENCRYPTION_KEYS": keys],
                currentDirectory: directory)
            for secret in [old, new, "secret"] {
                #expect(!(output.standardOutput + output.standardError).contains(secret))
            }
            return output
        }

        let dryRun = try await reseal("\(new),\(old)", ["--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.standardError)")
        #expect(
            dryRun.standardOutput.contains("would reseal 3, already current 0, failed 0 (dry run: nothing written)"))
        let resealed = try await reseal("\(new),\(old)")
        #expect(resealed.status == 0, "\(resealed.standardError)")
        #expect(resealed.standardOutput.contains("resealed 3, already current 0, failed 0"))

        // The old key is dropped.
        let retired = try await reseal(new)
        #expect(retired.status == 0, "\(retired.standardError)")
        #expect(retired.standardOutput.contains("resealed 0, already current 3, failed 0"))
        let store = try SQLiteStorage(location: location)
        let credentials = TenantCredentials(store: store.credentials, cipher: try CredentialCipher(base64Keys: new))
        for tenant in Self.tenants {
            #expect(try await credentials.secret(named: "mailer", for: tenant) == "mailer-secret-\(tenant.accountID)")
        }
        #expect(try await credentials.secret(named: "stripe.oauth", for: Self.tenants[0]) == "oauth-secret")

        // A credential sealed with a key nobody configured: reported by tenant and name, exit 1, nothing else lost.
        let stray = TenantCredentials(store: store.credentials, cipher: try CredentialCipher(base64Keys: old))
        try await stray.setSecret("stray-secret", named: "other", for: Self.tenants[1])
        let failed = try await reseal(new)
        #expect(failed.status == 1)
        #expect(failed.standardOutput.contains("resealed 0, already current 3, failed 1"))
        #expect(failed.standardError.contains("\(Self.tenants[1]) other: unknown_encryption_key"))

        let unconfigured = try await reseal("")
        #expect(unconfigured.status == 1)
        #expect(unconfigured.standardError.contains("missing_encryption_keys"))
    }
}
