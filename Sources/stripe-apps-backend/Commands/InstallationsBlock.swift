import ArgumentParser
import Foundation
import StripeApps

/// The tenant an `installations block|unblock` command names, checked before storage is opened.
struct TenantArguments: ParsableArguments {
    @Argument(help: "The Stripe account (acct_…).")
    var account: String

    @Option(help: "live or test: a block is per tenant, one mode of the account.")
    var mode: String

    /// The tenant, or a `code: message` line on standard error and exit code 2.
    func tenant() throws -> Tenant {
        guard StripeID.isValid(account, prefix: "acct_") else {
            printToStandardError("invalid_account: the account must be acct_ and 1 to 255 letters, digits or _")
            throw ExitCode(2)
        }
        guard let mode = Tenant.Mode(mode) else {
            printToStandardError("invalid_mode: --mode must be live or test")
            throw ExitCode(2)
        }
        return Tenant(accountID: account, mode: mode)
    }
}

/// Who a command-line block or unblock is recorded as.
let commandLineActor = "command line"

/// The answer when the tenant has no installation record: exit code 1.
func unknownTenant(_ tenant: Tenant) -> ExitCode {
    printToStandardError(
        "unknown_tenant: \(tenant.accountID) has no installation in \(tenant.mode) mode; `installations list` shows "
            + "the known tenants")
    return ExitCode(1)
}

/// `installations block ACCT --mode M [--reason R]`.
struct InstallationsBlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Block a tenant: serve it nothing and run nothing for it until it is unblocked.",
        discussion: """
            Its webhooks are still answered 200 (Stripe stops retrying) and stored as blocked without running, its \
            signed UI calls get 403 tenant_blocked, its queued jobs are cancelled (running ones asked to stop) and \
            new ones are cancelled instead of run; per-installation schedules skip it. The block, who set it and \
            why go to the tenant's audit log. The tenant must have an installation record (installations list); \
            uninstalls and reinstalls keep the block. A running server sees it at once on PostgreSQL, and within \
            INSTALLATION_CACHE_SECONDS (2 s) on SQLite.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @OptionGroup var tenantArguments: TenantArguments

    @Option(help: "Why, for the audit log and the admin page (one line, at most 500 characters).")
    var reason: String?

    func run() async throws {
        let tenant = try tenantArguments.tenant()
        let reason = reason?.trimmingCharacters(in: .whitespaces)
        if let reason, !TenantBlock.isValidReason(reason) {
            printToStandardError(
                "invalid_reason: the reason must be one line of at most \(TenantBlock.maximumReasonLength) characters")
            throw ExitCode(2)
        }
        let action = AdminAction(actor: commandLineActor, date: Date())
        let reasonGiven = reason.flatMap { $0.isEmpty ? nil : $0 }
        let outcome = try await withConfiguredStorage(try await options.read()) {
            storage -> (before: Installation?, after: Installation?) in
            let before = try await storage.installations.installation(for: tenant)
            return (before, try await storage.admin.block(tenant, reason: reasonGiven, by: action))
        }
        guard let block = outcome.after?.block else { throw unknownTenant(tenant) }
        if outcome.before?.isBlocked == true {
            print(
                "\(tenant) was already blocked since \(iso8601(block.blockedAt)) by \(block.blockedBy)"
                    + (block.reason.map { ": \($0)" } ?? ""))
        } else {
            print("\(tenant) blocked")
        }
    }
}

/// `installations unblock ACCT --mode M`.
struct InstallationsUnblock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unblock",
        abstract: "Lift a tenant's block: its calls, webhooks and jobs are served and run again.",
        discussion: """
            What was set aside while it was blocked stays so: replay its blocked events (events replay, or the \
            admin inbox filtered by status blocked) and its cancelled jobs (jobs replay) to run them. Scheduled \
            jobs resume at the next slot; slots that passed during the block are not run. Recorded in the \
            tenant's audit log.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @OptionGroup var tenantArguments: TenantArguments

    func run() async throws {
        let tenant = try tenantArguments.tenant()
        let action = AdminAction(actor: commandLineActor, date: Date())
        let outcome = try await withConfiguredStorage(try await options.read()) {
            storage -> (before: Installation?, after: Installation?) in
            let before = try await storage.installations.installation(for: tenant)
            return (before, try await storage.admin.unblock(tenant, by: action))
        }
        guard outcome.after != nil else { throw unknownTenant(tenant) }
        print(outcome.before?.isBlocked == true ? "\(tenant) unblocked" : "\(tenant) was not blocked")
    }
}
