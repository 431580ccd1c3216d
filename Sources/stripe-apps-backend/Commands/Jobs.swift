import ArgumentParser
import Foundation
import StripeApps

/// `jobs …`: scheduled work.
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scheduled jobs.",
        subcommands: [JobsList.self, JobsRun.self, JobsCancel.self, JobsReplay.self, JobsNext.self]
    )
}

/// `jobs next "EXPR" [--time-zone TZ] [--after INSTANT] [--count N]`: the instants a cron expression fires at.
struct JobsNext: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next instants a cron expression fires at, in UTC, one per line.",
        discussion: """
            Five fields (minute hour day-of-month month day-of-week) or a nickname (@hourly, @daily, @weekly, \
            @monthly, @yearly), read on the wall clock of --time-zone with Debian cron's daylight-saving rules: a \
            fixed time the clock skips runs once as it jumps, a fixed time it repeats runs once, and schedules whose \
            minute or hour starts with * follow the wall clock. Exits 2 with the bad field named on standard error.
            """
    )

    @Argument(help: "The cron expression, quoted: \"30 2 * * *\".")
    var expression: String

    @Option(help: "The IANA time zone whose wall clock the expression reads, e.g. Europe/Berlin.")
    var timeZone = "UTC"

    @Option(help: "List the instants strictly after this one (YYYY-MM-DDTHH:MM:SSZ); default: now.")
    var after: String?

    @Option(help: "How many instants to print.")
    var count = 5

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be from 1 to 10000.") }
    }

    func run() throws {
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(expression, timeZone: timeZone)
        } catch {
            printToStandardError(error.description)
            throw ExitCode(2)
        }
        var start = Date()
        if let after {
            guard let parsed = ISO8601DateFormatter().date(from: after) else {
                printToStandardError(
                    "--after must be an instant such as 2026-03-29T00:00:00Z, not \(after.prefix(40)).")
                throw ExitCode(2)
            }
            start = parsed
        }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "GMT")
        let instants = schedule.instants(after: start, count: count)
        for instant in instants { print(formatter.string(from: instant)) }
        if instants.count < count {
            printToStandardError("The expression fires \(instants.count) more times within 50 years.")
        }
    }
}

/// Writes a line to standard error.
func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// `jobs list [--status S | --all] [--format json]`.
struct JobsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the schedules, each tenant's next and last run, and the jobs not yet succeeded.",
        discussion: """
            Schedules are listed as the running instances last advanced them (at their last slot): what each runs and \
            when, its next slot, and for each active installation (or once, for a global schedule) when its next \
            run starts (the slot plus the tenant's jitter) and how its newest run ended. Then the jobs: pending, \
            running (with progress), failed and dead ones, newest first; --status or --all for others.
            """)

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "Only jobs of this status: pending, running, succeeded, failed, dead or cancelled.")
    var status: String?

    @Flag(help: "Jobs of every status, succeeded and cancelled ones included.")
    var all = false

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    @Option(help: "The most jobs to list.")
    var limit: Int = 100

    /// A schedule with its tenants' next and newest runs.
    struct Listed {
        let schedule: ScheduleRecord
        let owners: [(tenant: Tenant?, nextRun: Date?, latest: JobRecord?)]
    }

    func run() async throws {
        var statuses: [JobRecord.Status?] = [.pending, .running, .failed, .dead]
        if let status {
            guard let known = JobRecord.Status(name: status), !all else {
                throw ValidationError(
                    all
                        ? "--status and --all exclude each other."
                        : "--status must be one of pending, running, succeeded, failed, dead, cancelled.")
            }
            statuses = [known]
        } else if all {
            statuses = [nil]
        }
        let limit = max(0, limit)
        let (schedules, jobs) = try await withConfiguredStorage(try await options.read()) { storage in
            // The tenants per-installation schedules run for: active, and not blocked.
            let tenants = try await storage.installations.installations().filter {
                $0.status == .active && !$0.isBlocked
            }.map(\.tenant)
            var listed: [Listed] = []
            for schedule in try await storage.schedules.schedules() {
                let latest = try await storage.schedules.latestRuns(of: schedule.name)
                let perInstallation = schedule.summary?.perInstallation ?? false
                let owners: [Tenant?] = perInstallation ? tenants : [nil]
                // Tenants uninstalled since their last run are listed too, without a next run.
                let gone = latest.compactMap(\.tenant).filter { !tenants.contains($0) }
                listed.append(
                    Listed(
                        schedule: schedule,
                        owners: owners.map { tenant in
                            (tenant, schedule.nextRun(for: tenant), latest.first { $0.tenant == tenant })
                        }
                            + (perInstallation
                                ? gone.map { tenant in (tenant, nil, latest.first { $0.tenant == tenant }) } : [])
                    ))
            }
            var jobs: [JobRecord] = []
            for status in statuses { jobs += try await storage.jobs.jobs(status: status, limit: limit) }
            jobs.sort { ($0.queuedAt, $0.id) > ($1.queuedAt, $1.id) }
            return (listed, Array(jobs.prefix(limit)))
        }
        switch format {
        case .json:
            print(
                PayloadValue.object([
                    PayloadField("schedules", .array(schedules.map(Self.json))),
                    PayloadField("jobs", .array(jobs.map(Self.json))),
                ]).jsonString)
        case .table:
            if !schedules.isEmpty {
                print("SCHEDULE\tJOB\tWHEN\tFOR\tNEXT SLOT")
                for listed in schedules {
                    let schedule = listed.schedule
                    let scope = schedule.summary.map { $0.perInstallation ? "each installation" : "global" } ?? "-"
                    print(
                        "\(schedule.name)\t\(schedule.summary?.jobName ?? "-")\t\(schedule.summary?.timing ?? "-")\t\(scope)\t\(schedule.nextSlot.map(iso8601) ?? "-")"
                    )
                    for owner in listed.owners {
                        let latest = owner.latest
                        let outcome = latest.map { "\($0.status) \($0.id)" } ?? "no run yet"
                        print(
                            "  \(owner.tenant?.accountID ?? "global")\t\(owner.tenant?.mode.description ?? "-")\tnext \(owner.nextRun.map(iso8601) ?? "-")\tlast \(outcome)"
                        )
                    }
                }
                print("")
            }
            print("ID\tNAME\tACCOUNT\tMODE\tSTATUS\tATTEMPTS\tRUN AT\tPROGRESS")
            for job in jobs {
                let progress = job.progress.map { "\(Int(($0 * 100).rounded())) %" } ?? "-"
                let message = job.progressMessage.map { " \($0)" } ?? ""
                print(
                    "\(job.id)\t\(job.name)\t\(job.tenant?.accountID ?? "-")\t\(job.tenant?.mode.description ?? "-")\t\(job.status)\t\(job.attempts)/\(job.maxAttempts)\t\(iso8601(job.runAt))\t\(progress)\(message)"
                )
            }
        }
    }

    static func json(_ listed: Listed) -> PayloadValue {
        let schedule = listed.schedule
        func instant(_ date: Date?) -> PayloadValue {
            date.map { .number($0.timeIntervalSince1970.rounded(.down)) } ?? .null
        }
        return .object([
            PayloadField("name", .string(schedule.name)),
            PayloadField("job_name", schedule.summary.map { .string($0.jobName) } ?? .null),
            PayloadField("timing", schedule.summary.map { .string($0.timing) } ?? .null),
            PayloadField("per_installation", schedule.summary.map { .bool($0.perInstallation) } ?? .null),
            PayloadField("next_slot", instant(schedule.nextSlot)),
            PayloadField("handled_through", instant(schedule.handledThrough)),
            PayloadField("advanced_at", instant(schedule.updatedAt)),
            PayloadField(
                "runs",
                .array(
                    listed.owners.map { owner in
                        .object([
                            PayloadField("account_id", owner.tenant.map { .string($0.accountID) } ?? .null),
                            PayloadField("mode", owner.tenant.map { .string($0.mode.description) } ?? .null),
                            PayloadField("next_run_at", instant(owner.nextRun)),
                            PayloadField("last_run", owner.latest.map(json) ?? .null),
                        ])
                    })),
        ])
    }

    static func json(_ job: JobRecord) -> PayloadValue {
        func optional(_ text: String?) -> PayloadValue { text.map(PayloadValue.string) ?? .null }
        return .object([
            PayloadField("id", .string(job.id)), PayloadField("name", .string(job.name)),
            PayloadField("account_id", optional(job.tenant?.accountID)),
            PayloadField("mode", optional(job.tenant?.mode.description)),
            PayloadField("status", .string(job.status.description)),
            PayloadField("attempts", .number(Double(job.attempts))),
            PayloadField("max_attempts", .number(Double(job.maxAttempts))),
            PayloadField("run_at", .number(job.runAt.timeIntervalSince1970.rounded(.down))),
            PayloadField("queued_at", .number(job.queuedAt.timeIntervalSince1970.rounded(.down))),
            PayloadField(
                "finished_at", job.finishedAt.map { .number($0.timeIntervalSince1970.rounded(.down)) } ?? .null),
            PayloadField("lease_owner", optional(job.leaseOwner)),
            PayloadField("cancel_requested", .bool(job.cancelRequested)),
            PayloadField("progress", job.progress.map(PayloadValue.number) ?? .null),
            PayloadField("progress_message", optional(job.progressMessage)),
            PayloadField("slot_key", optional(job.slotKey)), PayloadField("last_error", optional(job.lastError)),
        ])
    }
}

/// `jobs run NAME [--account A --mode M] [--parameters JSON]`.
struct JobsRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Push a job now; a running server with that job type registered runs it.",
        discussion:
            "The parameters are the job type's JSON (default {}); a scheduled job's parameters are its schedule's."
    )

    @OptionGroup var options: ConfigurationOptions

    @Argument(help: "The job type's name (its jobName).")
    var name: String

    @Option(help: "The tenant's account (acct_…), for a job that works for one tenant.")
    var account: String?

    @Option(help: "The tenant's mode with --account: live or test.")
    var mode: String?

    @Option(help: "The job's parameters as a JSON object.")
    var parameters = "{}"

    func run() async throws {
        var tenant: Tenant?
        if let account {
            guard StripeID.isValid(account, prefix: "acct_"), let mode = mode.flatMap(Tenant.Mode.init) else {
                throw ValidationError("--account must be acct_… and --mode live or test.")
            }
            tenant = Tenant(accountID: account, mode: mode)
        } else if mode != nil {
            throw ValidationError("--mode goes with --account.")
        }
        guard case .object? = try? PayloadValue.parse(parameters) else {
            throw ValidationError("--parameters must be a JSON object.")
        }
        let job = NewJob(name: name, tenant: tenant, parameters: parameters)
        let pushed = try await withConfiguredStorage(try await options.read()) {
            try await $0.jobs.push(job, now: Date())
        }
        print(pushed.map { "\($0.id) pending" } ?? "not pushed")
    }
}

/// `jobs cancel ID`.
struct JobsCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job: a pending one at once, a running one at its worker's next heartbeat.")

    @OptionGroup var options: ConfigurationOptions

    @Argument(help: "The job id (job_…).")
    var id: String

    func run() async throws {
        guard
            let job = try await withConfiguredStorage(
                try await options.read(), { try await $0.jobs.cancel(id: id, now: Date()) })
        else {
            printToStandardError("no_such_job: \(id.prefix(60)) is not in the queue")
            throw ExitCode(1)
        }
        switch job.status {
        case .cancelled: print("\(job.id) cancelled")
        case .running: print("\(job.id) asked to stop; its worker cancels it at the next heartbeat")
        default: print("\(job.id) already \(job.status)")
        }
    }
}

/// `jobs replay ID`.
struct JobsReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Make a dead or cancelled job pending again, its attempts from zero.")

    @OptionGroup var options: ConfigurationOptions

    @Argument(help: "The job id (job_…).")
    var id: String

    func run() async throws {
        guard
            try await withConfiguredStorage(try await options.read(), { try await $0.jobs.replay(id: id, now: Date()) })
        else {
            printToStandardError("not_replayable: \(id.prefix(60)) is not a dead or cancelled job")
            throw ExitCode(1)
        }
        print("\(id) is pending again")
    }
}
