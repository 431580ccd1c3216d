import Foundation
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
}
