import ArgumentParser
import Foundation
import StripeApps

/// `jobs …`: scheduled work.
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scheduled jobs.",
        subcommands: [JobsNext.self]
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
