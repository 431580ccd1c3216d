extension TenantCredentials {
    /// Rewrites every stored credential that ``CredentialCipher/needsResealing(_:)``: sealed with another key than
    /// the first of the cipher, or in the format that does not bind the version. Run after putting a new key
    /// first; once the report has no failures, the old keys can be dropped.
    ///
    /// Every credential is opened, current or not, so the report also says which ones the configured keys cannot
    /// open (a key already dropped, altered bytes). Each rewrite is a compare-and-swap on the version that was
    /// read: when another writer (an OAuth refresh rolling the refresh token) comes first, its value stays and is
    /// checked again instead of being overwritten.
    ///
    /// - Parameters:
    ///   - dryRun: Open and count, write nothing; ``CredentialResealReport/resealed`` then counts what would be
    ///     rewritten.
    ///   - pageSize: How many credentials are read at a time.
    /// - Throws: Only what the store throws; a credential that does not open is a failure in the report.
    public func resealAll(dryRun: Bool = false, pageSize: Int = 200) async throws -> CredentialResealReport {
        var report = CredentialResealReport(isDryRun: dryRun)
        var position: StoredCredential.ID?
        while true {
            let page = try await store.credentials(after: position, limit: max(1, pageSize))
            guard let last = page.last else { return report }
            position = last.id
            for credential in page {
                try await reseal(credential, dryRun: dryRun, into: &report)
            }
        }
    }

    /// How many times one credential is read again after a concurrent write before it counts as a failure.
    static let resealAttempts = 5

    private func reseal(_ listed: StoredCredential, dryRun: Bool, into report: inout CredentialResealReport)
        async throws
    {
        var credential = listed
        for _ in 1...Self.resealAttempts {
            let value: [UInt8]
            do {
                value = try cipher.open(
                    credential.sealed, for: credential.tenant, name: credential.name, version: credential.version)
            } catch {
                report.failures.append(.init(credential: credential.id, reason: error.code.description))
                return
            }
            guard cipher.needsResealing(credential.sealed) else {
                report.alreadyCurrent += 1
                return
            }
            if dryRun {
                report.resealed += 1
                return
            }
            do {
                _ = try await write(value, named: credential.name, for: credential.tenant, over: credential.version)
                report.resealed += 1
                return
            } catch let conflict as StoreError where conflict.code == .versionConflict {
                // Another writer came first: its value stays; look at what it wrote.
                guard let newer = try await store.credential(named: credential.name, for: credential.tenant) else {
                    report.deletedMeanwhile += 1
                    return
                }
                credential = newer
            }
        }
        report.failures.append(.init(credential: credential.id, reason: StoreError.Code.versionConflict.description))
    }
}

/// What ``TenantCredentials/resealAll(dryRun:pageSize:)`` did (or, in a dry run, would do).
///
/// It names credentials by tenant and name only, and failures by a stable reason: never a value or a key.
public struct CredentialResealReport: Sendable, Hashable {
    /// A credential that could not be resealed.
    public struct Failure: Sendable, Hashable {
        /// Which credential.
        public let credential: StoredCredential.ID
        /// A stable reason: `unknown_encryption_key` (sealed with a key that is not configured),
        /// `credential_tampered` (does not open for its tenant, name and version) or `version_conflict` (other
        /// writers kept changing it).
        public let reason: String

        /// Creates a failure.
        public init(credential: StoredCredential.ID, reason: String) {
            self.credential = credential
            self.reason = reason
        }
    }

    /// Whether nothing was written.
    public var isDryRun: Bool
    /// Credentials rewritten with the first key in the current format (in a dry run: that would be).
    public var resealed = 0
    /// Credentials already sealed with the first key in the current format.
    public var alreadyCurrent = 0
    /// Credentials deleted by another writer while they were being resealed.
    public var deletedMeanwhile = 0
    /// Credentials the configured keys could not open, or that could not be rewritten.
    public var failures: [Failure] = []

    /// Creates an empty report.
    public init(isDryRun: Bool) {
        self.isDryRun = isDryRun
    }
}
