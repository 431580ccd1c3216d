import Foundation
import StripeApps
import StripeAppsSQLite
import Testing

/// `installations block|unblock` on the configured storage: the block, its audit records, the jobs it cancels, how
/// `installations list` shows it, and stable errors for bad input and unknown tenants that change nothing.
@Suite struct InstallationsBlockCommandTests {
    @Test func blockAndUnblockATenantWithStableErrors() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("block-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = "sqlite:\(directory.path)/block.sqlite"
        let tenant = Tenant(accountID: "acct_cli", mode: .test)
        do {
            let storage = try SQLiteStorage(location: try #require(try DatabaseURL(url).sqlite))
            try await storage.migrate()
            _ = try await storage.installations.apply(
                InstallationChange(
                    tenant: tenant, action: .activate, source: .installCallback, occurredAt: Date(),
                    recordedAt: Date()))
        }
        func backend(_ arguments: [String]) async throws -> ProcessOutput {
            try await runProcessAsync(ExternalTool.backend, arguments, environment: ["DATABASE_URL": url])
        }
        let pushed = try await backend(["jobs", "run", "sync", "--account", "acct_cli", "--mode", "test"])
        let job = try #require(pushed.standardOutput.split(separator: " ").first.map(String.init))

        // Bad input: a stable code on stderr, exit 2, nothing written.
        for (arguments, code) in [
            (["acct_cli", "--mode", "prod"], "invalid_mode"), (["cus_123", "--mode", "test"], "invalid_account"),
            (["acct_cli", "--mode", "test", "--reason", "two\nlines"], "invalid_reason"),
            (["acct_cli", "--mode", "test", "--reason", String(repeating: "r", count: 501)], "invalid_reason"),
        ] {
            let refused = try await backend(["installations", "block"] + arguments)
            #expect(refused.status == 2, "\(arguments)")
            #expect(refused.standardError.hasPrefix("\(code): "), "\(arguments): \(refused.standardError)")
            #expect(refused.standardOutput.isEmpty)
        }
        // Unknown tenants: exit 1; another mode of a known account is another tenant.
        for arguments in [["acct_nobody", "--mode", "test"], ["acct_cli", "--mode", "live"]] {
            for command in ["block", "unblock"] {
                let unknown = try await backend(["installations", command] + arguments)
                #expect(unknown.status == 1, "\(command) \(arguments)")
                #expect(unknown.standardError.hasPrefix("unknown_tenant: "), "\(unknown.standardError)")
            }
        }
        let untouched = try await backend(["installations", "list", "--format", "json"])
        #expect(untouched.standardOutput.contains(#""blocked":false"#))

        let blocked = try await backend(
            ["installations", "block", "acct_cli", "--mode", "test", "--reason", "  chargeback fraud  "])
        #expect(blocked.status == 0, "\(blocked.standardError)")
        #expect(blocked.standardOutput == "acct_cli/test blocked\n")
        let again = try await backend(["installations", "block", "acct_cli", "--mode", "test", "--reason", "other"])
        #expect(again.status == 0)
        #expect(again.standardOutput.hasPrefix("acct_cli/test was already blocked since "))
        #expect(again.standardOutput.hasSuffix(" by command line: chargeback fraud\n"), "\(again.standardOutput)")

        let listed = try PayloadValue.parse(
            try await backend(["installations", "list", "--format", "json"]).standardOutput)
        guard case .array(let records) = listed, let record = records.first else {
            Issue.record("no installation listed")
            return
        }
        #expect(record["blocked"] == .bool(true) && record["block_reason"] == .string("chargeback fraud"))
        #expect(record["blocked_by"] == .string("command line"))
        if case .number? = record["blocked_at"] {} else { Issue.record("no blocked_at: \(record)") }
        let table = try await backend(["installations", "list"])
        #expect(table.standardOutput.hasPrefix("ACCOUNT\tMODE\tSTATUS\tUPDATED\tBLOCKED\n"))
        #expect(table.standardOutput.contains("\tsince "), "\(table.standardOutput)")
        let jobs = try PayloadValue.parse(
            try await backend(["jobs", "list", "--all", "--format", "json"]).standardOutput)
        guard case .array(let items)? = jobs["jobs"] else {
            Issue.record("no jobs listed")
            return
        }
        #expect(items.first { $0["id"] == .string(job) }?["status"] == .string("cancelled"), "the block cancelled it")
        #expect(try await backend(["events", "list", "--status", "blocked"]).status == 0)

        let unblocked = try await backend(["installations", "unblock", "acct_cli", "--mode", "test"])
        #expect(unblocked.standardOutput == "acct_cli/test unblocked\n")
        let notBlocked = try await backend(["installations", "unblock", "acct_cli", "--mode", "test"])
        #expect(notBlocked.status == 0 && notBlocked.standardOutput == "acct_cli/test was not blocked\n")

        let storage = try SQLiteStorage(location: try #require(try DatabaseURL(url).sqlite))
        try await storage.migrate()
        let audit = try await storage.credentials.auditRecords(for: tenant)
        #expect(audit.map(\.action) == ["admin_blocked", "admin_unblocked"], "refused and repeated commands add none")
        #expect(audit.first?.reason.hasPrefix("chargeback fraud by command line at ") == true)
        #expect(try await storage.installations.installation(for: tenant)?.isBlocked == false)
    }
}
