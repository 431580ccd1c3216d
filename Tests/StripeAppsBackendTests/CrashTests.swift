import Foundation
import Testing

/// The inbox under SIGKILL: a burst of signed events, duplicates and retries, while the server is killed and
/// restarted (Tests/Reliability/crash_burst.py, which signs and checks independently of our code).
///
/// CI runs 2,000 events and 3 kills; the full size is
/// `python3 Tests/Reliability/crash_burst.py --binary .build/release/stripe-apps-backend --events 20000 --kills 5`.
@Suite struct CrashTests {
    @Test func everyEventIsStoredAndHandledExactlyOnceAcrossKills() async throws {
        let python = try #require(ExternalTool.onPath("python3"), "python3 is not on PATH")
        let script = packageRoot.appendingPathComponent("Tests/Reliability/crash_burst.py")
        let result = try await runProcessAsync(
            python,
            [script.path, "--binary", ExternalTool.backend.path, "--events", "2000", "--kills", "3"]
        )
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("7 passed, 0 failed"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("with 3 SIGKILLs"))
    }
}
