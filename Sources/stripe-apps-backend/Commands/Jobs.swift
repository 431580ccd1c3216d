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

/// `jobs list [--status S] [--format json]`.
struct JobsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List jobs, newest first, with their status, attempts and progress.")

    @Option(help: "pending, running, succeeded, failed, dead or cancelled.")
    var status: String?

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    @Option(help: "The most jobs to list.")
    var limit: Int = 100

    func run() async throws {
        var parsed: JobRecord.Status?
        if let status {
            guard let known = JobRecord.Status(name: status) else {
                throw ValidationError("--status must be one of pending, running, succeeded, failed, dead, cancelled.")
            }
            parsed = known
        }
        let jobs = try await withConfiguredStorage { try await $0.jobs.jobs(status: parsed, limit: limit) }
        switch format {
        case .json:
            print(PayloadValue.array(jobs.map(Self.json)).jsonString)
        case .table:
            print("ID\tNAME\tACCOUNT\tMODE\tSTATUS\tATTEMPTS\tRUN AT\tPROGRESS")
            for job in jobs {
                let progress = job.progress.map { "\(Int(($0 * 100).rounded())) %" } ?? "-"
                print(
                    "\(job.id)\t\(job.name)\t\(job.tenant?.accountID ?? "-")\t\(job.tenant?.mode.description ?? "-")\t\(job.status)\t\(job.attempts)/\(job.maxAttempts)\t\(iso8601(job.runAt))\t\(progress)"
                )
            }
        }
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
        let pushed = try await withConfiguredStorage { try await $0.jobs.push(job, now: Date()) }
        print(pushed.map { "\($0.id) pending" } ?? "not pushed")
    }
}

/// `jobs cancel ID`.
struct JobsCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job: a pending one at once, a running one at its worker's next heartbeat.")

    @Argument(help: "The job id (job_…).")
    var id: String

    func run() async throws {
        guard let job = try await withConfiguredStorage(nil, { try await $0.jobs.cancel(id: id, now: Date()) }) else {
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

    @Argument(help: "The job id (job_…).")
    var id: String

    func run() async throws {
        guard try await withConfiguredStorage(nil, { try await $0.jobs.replay(id: id, now: Date()) }) else {
            printToStandardError("not_replayable: \(id.prefix(60)) is not a dead or cancelled job")
            throw ExitCode(1)
        }
        print("\(id) is pending again")
    }
}
