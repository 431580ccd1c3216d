import Foundation
import Logging
import ServiceLifecycle
import StripeApps
import StripeAppsSQLite
import StripeAppsServer
import Synchronization
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
        // Only serve and migrate create a database; any other command refuses to work on a new, empty one.
        let refused = try await jobs(["run", "sync-customers"])
        #expect(
            refused.status == 1 && refused.standardError.hasPrefix("database_not_found:"), "\(refused.standardError)")
        let migrated = try await runProcessAsync(ExternalTool.backend, ["migrate"], environment: environment)
        #expect(migrated.status == 0, "\(migrated.standardError)")
        let pushed = try await jobs([
            "run", "sync-customers", "--account", "acct_cli", "--mode", "test", "--parameters", #"{"since":0}"#,
        ])
        #expect(pushed.status == 0, "\(pushed.standardError)")
        let id = try #require(pushed.standardOutput.split(separator: " ").first.map(String.init))
        #expect(id.hasPrefix("job_") && pushed.standardOutput.hasSuffix(" pending\n"))

        let listed = try await jobs(["list", "--format", "json"])
        let value = try PayloadValue.parse(listed.standardOutput)
        guard case .array(let items)? = value["jobs"], let first = items.first else {
            Issue.record("no jobs listed: \(listed.standardOutput)")
            return
        }
        #expect(first["id"]?.stringValue == id && first["name"]?.stringValue == "sync-customers")
        #expect(first["account_id"]?.stringValue == "acct_cli" && first["status"]?.stringValue == "pending")
        #expect(
            try await jobs(["list"]).standardOutput.contains("\(id)\tsync-customers\tacct_cli\ttest\tpending\t0/25"))

        let cancelled = try await jobs(["cancel", id])
        #expect(cancelled.standardOutput == "\(id) cancelled\n")
        #expect(try await jobs(["list", "--status", "cancelled"]).standardOutput.contains(id))
        #expect(try await jobs(["list", "--all"]).standardOutput.contains(id))
        #expect(!(try await jobs(["list"]).standardOutput.contains(id)), "cancelled jobs are not listed by default")
        let replayed = try await jobs(["replay", id])
        #expect(replayed.standardOutput == "\(id) is pending again\n")

        let missing = try await jobs(["cancel", "job_missing"])
        #expect(missing.status == 1 && missing.standardError.contains("no_such_job"))
        let notReplayable = try await jobs(["replay", id])
        #expect(notReplayable.status == 1 && notReplayable.standardError.contains("not_replayable"))
        for bad in [
            ["run", "x", "--account", "nope", "--mode", "test"], ["run", "x", "--parameters", "[1]"],
            ["run", "x", "--mode", "live"], ["list", "--status", "later"], ["list", "--status", "dead", "--all"],
        ] {
            let refused = try await jobs(bad)
            #expect(refused.status != 0, "\(bad)")
        }
    }

    /// `jobs list` beside a running server shows what it schedules: each schedule with its next slot, and for a
    /// per-installation one every active tenant's next run (slot plus jitter) and how its newest run ended.
    @Test func listBesideARunningServerShowsEachTenantsNextAndLastRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = "sqlite:\(directory.path)/jobs.sqlite"
        let storage = try SQLiteStorage(location: try #require(try DatabaseURL(url).sqlite))
        let start = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01T00:00:00Z
        let clock = Mutex(start)
        let tenants = [Tenant(accountID: "acct_lista", mode: .live), Tenant(accountID: "acct_listb", mode: .test)]
        let (runs, ran) = AsyncStream<String>.makeStream()
        var registry = JobRegistry()
        registry.registerJob(parameters: NightlySync.self) { _, context in
            try await context.progress(1, message: "all sent")
            ran.yield(context.tenant?.accountID ?? "-")
        }
        try registry.addSchedule(
            "nightly-sync", try JobSchedule.daily(hour: 2, minute: 30, timeZone: "Europe/Berlin"),
            parameters: NightlySync(), perInstallation: true, jitter: .seconds(600))
        let configuration = AppConfiguration(port: 0, databaseURL: url)
        let worker = jobWorker(
            configuration: configuration, storage: storage, registry: registry, now: { clock.withLock { $0 } },
            logger: Logger(label: "test"))
        let (ready, readySignal) = AsyncStream<Void>.makeStream()
        let app = try buildApplication(
            configuration: configuration, storage: storage,
            hooks: ApplicationHooks(
                now: { clock.withLock { $0 } }, onServerRunning: { _ in readySignal.yield() }, jobWorker: worker))
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "jobs-list-test"))
        let environment = ["DATABASE_URL": url]
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await firstValue(of: ready, within: .seconds(30)) != nil, "the server did not start")
            for tenant in tenants {
                _ = try await storage.installations.apply(
                    InstallationChange(
                        tenant: tenant, action: .activate, source: .installCallback, occurredAt: start,
                        recordedAt: start))
            }
            // The running worker advances every second too; the database decides who pushes each slot.
            _ = await worker.advanceSchedules()
            // 01:30 UTC on the 1st is 02:30 in Berlin: the slot; ten minutes later every tenant's jitter has passed.
            clock.withLock { $0 = start.addingTimeInterval(5400 + 600) }
            _ = await worker.advanceSchedules()
            var started: Set<String> = []
            for await account in runs {
                started.insert(account)
                if started.count == tenants.count { break }
            }
            #expect(started == Set(tenants.map(\.accountID)))
            // A run's outcome commits just after its handler returns, and nothing announces it: look for it.
            for _ in 0..<500 {
                let done = try await storage.jobs.jobs(status: .succeeded, limit: 10).filter {
                    $0.name == NightlySync.jobName
                }
                if done.count == tenants.count { break }
                try await Task.sleep(for: .milliseconds(20))
            }

            let table = try await runProcessAsync(ExternalTool.backend, ["jobs", "list"], environment: environment)
            #expect(table.status == 0, "\(table.standardError)")
            let slot = "2026-12-02T01:30:00Z"
            #expect(
                table.standardOutput.contains(
                    "nightly-sync\tnightly-sync-customers\t30 2 * * * (Europe/Berlin)\teach installation\t\(slot)"),
                "\(table.standardOutput)")
            for tenant in tenants {
                let jitter = JobSchedule.jitter(for: tenant, schedule: "nightly-sync", within: .seconds(600))
                let next = Date(timeIntervalSince1970: 1_796_175_000).addingTimeInterval(jitter.timeInterval)
                #expect(
                    table.standardOutput.contains(
                        "  \(tenant.accountID)\t\(tenant.mode)\tnext \(next.formatted(.iso8601))\tlast succeeded job_"),
                    "\(tenant): \(table.standardOutput)")
            }
            #expect(
                table.standardOutput.contains(
                    "stripe_apps_backend.prune-jobs\tstripe_apps_backend.prune_jobs\tevery 3600 s\tglobal"))

            let json = try PayloadValue.parse(
                try await runProcessAsync(
                    ExternalTool.backend, ["jobs", "list", "--format", "json"], environment: environment
                ).standardOutput)
            guard case .array(let schedules)? = json["schedules"],
                let nightly = schedules.first(where: { $0["name"]?.stringValue == "nightly-sync" }),
                case .array(let listedRuns)? = nightly["runs"]
            else {
                Issue.record("no nightly-sync schedule: \(json)")
                return
            }
            #expect(nightly["per_installation"] == .bool(true) && nightly["next_slot"] == .number(1_796_175_000))
            #expect(Set(listedRuns.compactMap { $0["account_id"]?.stringValue }) == ["acct_lista", "acct_listb"])
            for run in listedRuns {
                #expect(run["last_run"]?["status"]?.stringValue == "succeeded")
                #expect(run["last_run"]?["progress_message"]?.stringValue == "all sent")
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// The parameters of the scheduled job `jobs list` is tested with.
struct NightlySync: JobParameters {
    static let jobName = "nightly-sync-customers"
}
