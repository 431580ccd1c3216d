import Foundation
import NIOCore
import PostgresNIO
package import StripeApps

extension PostgresStorage {
    /// The tables a copy fills, in an order that satisfies every reference.
    static let copiedTables = [
        "app_metadata", "installations", "settings", "install_states", "inbox_events", "audit_log",
        "tenant_credentials", "jobs",
    ]

    /// Writes `rows` into this (migrated) database in one transaction: all of it or, on any error, nothing.
    ///
    /// - Parameter replacing: Empty the tables first. Without it, a database that holds any row is refused.
    /// - Throws: ``StripeApps/StoreError`` with code `unavailable` and "not empty" when the target has rows and
    ///   `replacing` is `false`.
    package func importRows(_ rows: StorageRows, replacing: Bool) async throws {
        let logger = database.logger
        try await database.transaction(deadline: false) { connection in
            if replacing {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "TRUNCATE \(Self.copiedTables.joined(separator: ", ")) RESTART IDENTITY"),
                    logger: logger)
            } else {
                for table in Self.copiedTables {
                    let any = try await connection.rows(
                        PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table))"), as: Bool.self,
                        logger: logger)
                    guard any.first != true else {
                        throw StoreError(
                            .unavailable,
                            message:
                                "The target database is not empty (\(table) has rows); use --force to replace its data."
                        )
                    }
                }
            }
            for (key, value) in rows.metadata {
                try await connection.query(
                    "INSERT INTO app_metadata (key, value) VALUES (\(key), \(value))", logger: logger)
            }
            for record in rows.installations {
                try await connection.query(
                    """
                    INSERT INTO installations (account_id, livemode, status, created_at, updated_at, last_changed_at,
                        last_changed_by, blocked_at, blocked_by, block_reason)
                    VALUES (\(record.tenant.accountID), \(record.tenant.mode.isLive), \(record.status.description),
                        \(record.createdAt.timeIntervalSince1970), \(record.updatedAt.timeIntervalSince1970),
                        \(record.lastChangedAt?.timeIntervalSince1970), \(record.lastChangedBy),
                        \(record.block?.blockedAt.timeIntervalSince1970), \(record.block?.blockedBy),
                        \(record.block?.reason))
                    """, logger: logger)
            }
            for (tenant, document) in rows.settings {
                try await connection.query(
                    """
                    INSERT INTO settings (account_id, livemode, version, document, updated_at)
                    VALUES (\(tenant.accountID), \(tenant.mode.isLive), \(document.version), \(document.valuesJSON),
                        \(document.updatedAt?.timeIntervalSince1970 ?? 0))
                    """, logger: logger)
            }
            for state in rows.installStates {
                try await connection.query(PostgresInstallStateStore.insertQuery(state), logger: logger)
            }
            for (job, token) in rows.jobs {
                try await connection.query(
                    """
                    INSERT INTO jobs (id, name, account_id, livemode, parameters, priority, status, attempts,
                        max_attempts, run_at, queued_at, finished_at, last_error, lease_owner, lease_expires_at,
                        lease_token, cancel_requested, progress, progress_message, slot_key)
                    VALUES (\(job.id), \(job.name), \(job.tenant?.accountID), \(job.tenant.map { $0.mode.isLive }),
                        \(job.parameters), \(job.priority), \(job.status.description), \(job.attempts),
                        \(job.maxAttempts), \(job.runAt.timeIntervalSince1970), \(job.queuedAt.timeIntervalSince1970),
                        \(job.finishedAt?.timeIntervalSince1970), \(job.lastError), \(job.leaseOwner),
                        \(job.leaseExpiresAt?.timeIntervalSince1970), \(token), \(job.cancelRequested), \(job.progress),
                        \(job.progressMessage), \(job.slotKey))
                    """, logger: logger)
            }
            for (event, token) in rows.inbox {
                try await connection.query(
                    """
                    INSERT INTO inbox_events (id, type, livemode, account_id, created, received_at, status, attempts,
                        payload, next_attempt_at, last_error, lease_owner, lease_expires_at, lease_token, trace_parent)
                    VALUES (\(event.id), \(event.type), \(event.isLiveMode), \(event.accountID), \(event.created),
                        \(event.receivedAt.timeIntervalSince1970), \(event.status.description), \(event.attempts),
                        \(event.payload), \(event.nextAttemptAt?.timeIntervalSince1970), \(event.lastError),
                        \(event.leaseOwner), \(event.leaseExpiresAt?.timeIntervalSince1970), \(token),
                        \(event.traceParent))
                    """, logger: logger)
            }
            for record in rows.audit {
                try await connection.query(
                    """
                    INSERT INTO audit_log (account_id, livemode, action, reason, created_at)
                    VALUES (\(record.tenant.accountID), \(record.tenant.mode.isLive), \(record.action),
                        \(record.reason), \(record.date.timeIntervalSince1970))
                    """, logger: logger)
            }
            for credential in rows.credentials {
                try await connection.query(
                    """
                    INSERT INTO tenant_credentials (account_id, livemode, name, sealed, version, updated_at)
                    VALUES (\(credential.tenant.accountID), \(credential.tenant.mode.isLive), \(credential.name),
                        \(ByteBuffer(bytes: credential.sealed)), \(credential.version),
                        \(credential.updatedAt.timeIntervalSince1970))
                    """, logger: logger)
            }
        }
    }
}
