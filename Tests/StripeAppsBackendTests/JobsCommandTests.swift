import Foundation
import StripeApps
import Testing

/// `jobs next`: the instants of a cron expression, printed in UTC; a bad field or zone is named on stderr.
@Suite struct JobsCommandTests {
    @Test func nextPrintsInstantsInUTCWithTheDaylightSavingRules() async throws {
        let result = try await runProcessAsync(
            ExternalTool.backend,
            [
                "jobs", "next", "30 2 * * *", "--time-zone", "America/New_York", "--after", "2025-03-08T04:00:00Z",
                "--count", "3",
            ])
        #expect(result.status == 0, "\(result.standardError)")
        // 02:30 EST on the 8th; on the 9th 02:30 does not exist and it runs as the clock jumps to 03:00 EDT.
        #expect(result.standardOutput == "2025-03-08T07:30:00Z\n2025-03-09T07:00:00Z\n2025-03-10T06:30:00Z\n")
        let hourly = try await runProcessAsync(
            ExternalTool.backend, ["jobs", "next", "@hourly", "--after", "2026-12-31T22:30:00Z", "--count", "2"])
        #expect(hourly.standardOutput == "2026-12-31T23:00:00Z\n2027-01-01T00:00:00Z\n")
    }

    @Test func badExpressionsAndZonesExitNonZeroNamingTheProblem() async throws {
        let cases: [([String], String)] = [
            (["60 * * * *"], "minute"), (["* * * * 8"], "day-of-week"), (["0 0 30 2 *"], "day-of-month"),
            (["* * * *"], "five fields"), (["@reboot"], "@reboot"),
            (["0 0 * * *", "--time-zone", "Mars/Olympus"], "Mars/Olympus"),
            (["0 0 * * *", "--after", "yesterday"], "--after"),
        ]
        for (arguments, named) in cases {
            let result = try await runProcessAsync(ExternalTool.backend, ["jobs", "next"] + arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.standardError.contains(named), "\(arguments): \(result.standardError)")
            #expect(result.standardOutput.isEmpty, "\(arguments)")
        }
    }

    /// `jobs run`, `list`, `cancel` and `replay` on the configured storage, with stable errors.
    @Test func runListCancelAndReplayOnTheConfiguredStorage() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["DATABASE_URL": "sqlite:\(directory.path)/jobs.sqlite"]
        func jobs(_ arguments: [String]) async throws -> ProcessOutput {
            try await runProcessAsync(ExternalTool.backend, ["jobs"] + arguments, environment: environment)
        }
        let pushed = try await jobs([
            "run", "sync-customers", "--account", "acct_cli", "--mode", "test", "--parameters", #"{"since":0}"#,
        ])
        #expect(pushed.status == 0, "\(pushed.standardError)")
        let id = try #require(pushed.standardOutput.split(separator: " ").first.map(String.init))
        #expect(id.hasPrefix("job_") && pushed.standardOutput.hasSuffix(" pending\n"))

        let listed = try await jobs(["list", "--format", "json"])
        let value = try PayloadValue.parse(listed.standardOutput)
        guard case .array(let items) = value, let first = items.first else {
            Issue.record("not a list: \(listed.standardOutput)")
            return
        }
        #expect(first["id"]?.stringValue == id && first["name"]?.stringValue == "sync-customers")
        #expect(first["account_id"]?.stringValue == "acct_cli" && first["status"]?.stringValue == "pending")
        #expect(
            try await jobs(["list"]).standardOutput.contains("\(id)\tsync-customers\tacct_cli\ttest\tpending\t0/25"))

        let cancelled = try await jobs(["cancel", id])
        #expect(cancelled.standardOutput == "\(id) cancelled\n")
        #expect(try await jobs(["list", "--status", "cancelled"]).standardOutput.contains(id))
        let replayed = try await jobs(["replay", id])
        #expect(replayed.standardOutput == "\(id) is pending again\n")

        let missing = try await jobs(["cancel", "job_missing"])
        #expect(missing.status == 1 && missing.standardError.contains("no_such_job"))
        let notReplayable = try await jobs(["replay", id])
        #expect(notReplayable.status == 1 && notReplayable.standardError.contains("not_replayable"))
        for bad in [
            ["run", "x", "--account", "nope", "--mode", "test"], ["run", "x", "--parameters", "[1]"],
            ["run", "x", "--mode", "live"], ["list", "--status", "later"],
        ] {
            let refused = try await jobs(bad)
            #expect(refused.status != 0, "\(bad)")
        }
    }
}
