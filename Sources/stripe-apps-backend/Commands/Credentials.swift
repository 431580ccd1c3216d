import ArgumentParser
import Foundation
import StripeApps
import StripeAppsServer

/// `credentials`: the sealed tenant credentials.
struct Credentials: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Maintain the sealed tenant credentials.",
        subcommands: [CredentialsReseal.self]
    )
}

/// `credentials reseal [--dry-run]`.
struct CredentialsReseal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reseal",
        abstract: "Rewrite every credential sealed with an older key or format with the first ENCRYPTION_KEYS key.",
        discussion: """
            To rotate a key: put the new key first in ENCRYPTION_KEYS (keep the old one after it) on every \
            instance, run this, and once it reports no failure, drop the old key. Each rewrite is a \
            compare-and-swap, so it is safe while servers run: a credential another writer changes meanwhile \
            keeps that writer's value. Prints counts and, on standard error, the tenant and name of each \
            credential that could not be opened; never a value. Exits 1 when any could not be opened or rewritten.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Flag(help: "Open every credential and report what would be rewritten; write nothing.")
    var dryRun = false

    func run() async throws {
        let configuration = try await options.read()
        guard let cipher = configuration.credentialCipher else {
            FileHandle.standardError.write(
                Data("missing_encryption_keys: ENCRYPTION_KEYS must be set to reseal stored credentials\n".utf8))
            throw ExitCode(1)
        }
        let report = try await withConfiguredStorage(configuration) { storage in
            try await TenantCredentials(store: storage.credentials, cipher: cipher).resealAll(dryRun: dryRun)
        }
        print(
            "\(report.isDryRun ? "would reseal" : "resealed") \(report.resealed), "
                + "already current \(report.alreadyCurrent), failed \(report.failures.count)"
                + (report.deletedMeanwhile > 0 ? ", deleted meanwhile \(report.deletedMeanwhile)" : "")
                + (report.isDryRun ? " (dry run: nothing written)" : "")
        )
        for failure in report.failures {
            FileHandle.standardError.write(
                Data("\(failure.credential.tenant) \(failure.credential.name): \(failure.reason)\n".utf8))
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
