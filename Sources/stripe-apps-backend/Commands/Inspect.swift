import ArgumentParser
import Foundation
import StripeApps
import StripeAppsServer

/// `installations`: what the backend knows about installs.
struct Installations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect installations, and block or unblock tenants.",
        subcommands: [InstallationsList.self, InstallationsBlock.self, InstallationsUnblock.self]
    )
}

/// `installations list`.
struct InstallationsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List installations, tombstones included.")

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let installations = try await withConfiguredStorage(try await options.read()) {
            try await $0.installations.installations()
        }
        switch format {
        case .json:
            print(
                PayloadValue.array(
                    installations.map { installation in
                        .object([
                            PayloadField("account_id", .string(installation.tenant.accountID)),
                            PayloadField("mode", .string(installation.tenant.mode.description)),
                            PayloadField("status", .string(installation.status.description)),
                            PayloadField(
                                "created_at", .number(installation.createdAt.timeIntervalSince1970.rounded(.down))),
                            PayloadField(
                                "updated_at", .number(installation.updatedAt.timeIntervalSince1970.rounded(.down))),
                            PayloadField("blocked", .bool(installation.isBlocked)),
                            PayloadField(
                                "blocked_at",
                                installation.block.map { .number($0.blockedAt.timeIntervalSince1970.rounded(.down)) }
                                    ?? .null),
                            PayloadField("blocked_by", installation.block.map { .string($0.blockedBy) } ?? .null),
                            PayloadField(
                                "block_reason", installation.block?.reason.map { .string($0) } ?? .null),
                        ])
                    }
                ).jsonString)
        case .table:
            print("ACCOUNT\tMODE\tSTATUS\tUPDATED\tBLOCKED")
            for installation in installations {
                let blocked = installation.block.map { "since \(iso8601($0.blockedAt))" } ?? "-"
                print(
                    "\(installation.tenant.accountID)\t\(installation.tenant.mode)\t\(installation.status)\t\(iso8601(installation.updatedAt))\t\(blocked)"
                )
            }
        }
    }
}

/// `events`: the webhook inbox.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and replay the webhook inbox.",
        subcommands: [EventsList.self, EventsReplay.self, EventsRecover.self]
    )
}

/// `events list`.
struct EventsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List inbox events, newest first.")

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "pending, running, succeeded, failed, dead or blocked.")
    var status: String?

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    @Option(help: "The most events to list.")
    var limit: Int = 100

    func run() async throws {
        var parsedStatus: InboxEvent.Status?
        if let status {
            guard let parsed = InboxEvent.Status(name: status) else {
                throw ValidationError("--status must be one of pending, running, succeeded, failed, dead, blocked.")
            }
            parsedStatus = parsed
        }
        let events = try await withConfiguredStorage(try await options.read()) {
            try await $0.inbox.events(status: parsedStatus, limit: limit)
        }
        switch format {
        case .json:
            print(
                PayloadValue.array(
                    events.map { event in
                        .object([
                            PayloadField("id", .string(event.id)), PayloadField("type", .string(event.type)),
                            PayloadField("mode", .string(event.isLiveMode ? "live" : "test")),
                            PayloadField("account_id", event.accountID.map { .string($0) } ?? .null),
                            PayloadField("status", .string(event.status.description)),
                            PayloadField("attempts", .number(Double(event.attempts))),
                            PayloadField("created", .number(Double(event.created))),
                            PayloadField("last_error", event.lastError.map { .string($0) } ?? .null),
                        ])
                    }
                ).jsonString)
        case .table:
            print("ID\tTYPE\tMODE\tACCOUNT\tSTATUS\tATTEMPTS")
            for event in events {
                print(
                    "\(event.id)\t\(event.type)\t\(event.isLiveMode ? "live" : "test")\t\(event.accountID ?? "-")\t\(event.status)\t\(event.attempts)"
                )
            }
        }
    }
}

/// `events replay`.
struct EventsReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Make an event pending again; the running server's worker runs it within a second."
    )

    @OptionGroup var options: ConfigurationOptions

    @Argument(help: "The event id (evt_…).")
    var id: String

    func run() async throws {
        let replayed = try await withConfiguredStorage(try await options.read()) { try await $0.inbox.replay(id: id) }
        guard replayed else {
            FileHandle.standardError.write(
                Data(
                    ("no_such_event: \(id) is not in the inbox, or its payload was pruned (EVENT_RETENTION_DAYS, or "
                        + "its tenant uninstalled the app)\n").utf8))
            throw ExitCode(1)
        }
        print("\(id) is pending again")
    }
}

/// `table` or `json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

func iso8601(_ date: Date) -> String {
    date.formatted(.iso8601)
}
