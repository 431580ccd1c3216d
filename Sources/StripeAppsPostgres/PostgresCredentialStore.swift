public import Foundation
import NIOCore
import PostgresNIO
public import StripeApps

/// Sealed tenant credentials in `tenant_credentials`, and the `audit_log`.
public struct PostgresCredentialStore: CredentialStore {
    let database: PostgresDatabase

    public func credential(named name: String, for tenant: Tenant) async throws -> StoredCredential? {
        try await database.rows(
            """
            SELECT sealed, version, updated_at FROM tenant_credentials
            WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive) AND name = \(name)
            """,
            as: (ByteBuffer, Int, Double).self
        ).first.map { row in
            StoredCredential(
                tenant: tenant, name: name, sealed: Array(row.0.readableBytesView), version: row.1,
                updatedAt: Date(unixSeconds: row.2))
        }
    }

    public func saveCredential(
        _ sealed: [UInt8],
        named name: String,
        for tenant: Tenant,
        expectedVersion: Int?,
        at date: Date
    ) async throws -> StoredCredential {
        let logger = database.logger
        let version = try await database.transaction { connection in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(\(tenant.description + "/" + name), 1))", logger: logger)
            let current =
                try await connection.rows(
                    """
                    SELECT version FROM tenant_credentials
                    WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive) AND name = \(name)
                    """,
                    as: Int.self, logger: logger
                ).first ?? 0
            let next = try StoredCredential.nextVersion(current: current, expected: expectedVersion)
            try await connection.query(
                """
                INSERT INTO tenant_credentials (account_id, livemode, name, sealed, version, updated_at)
                VALUES (\(tenant.accountID), \(tenant.mode.isLive), \(name), \(ByteBuffer(bytes: sealed)),
                    \(next), \(date.timeIntervalSince1970))
                ON CONFLICT (account_id, livemode, name) DO UPDATE SET
                    sealed = excluded.sealed, version = excluded.version, updated_at = excluded.updated_at
                """,
                logger: logger)
            return next
        }
        return StoredCredential(tenant: tenant, name: name, sealed: sealed, version: version, updatedAt: date)
    }

    public func credentials(after position: StoredCredential.ID?, limit: Int) async throws -> [StoredCredential] {
        // The row comparison and ORDER BY use the same (the database's) collation: the pages follow the primary key.
        let query: PostgresQuery
        if let position {
            query = """
                SELECT account_id, livemode, name, sealed, version, updated_at FROM tenant_credentials
                WHERE (account_id, livemode, name)
                    > (\(position.tenant.accountID), \(position.tenant.mode.isLive), \(position.name))
                ORDER BY account_id, livemode, name LIMIT \(max(0, limit))
                """
        } else {
            query = """
                SELECT account_id, livemode, name, sealed, version, updated_at FROM tenant_credentials
                ORDER BY account_id, livemode, name LIMIT \(max(0, limit))
                """
        }
        return try await database.rows(query, as: (String, Bool, String, ByteBuffer, Int, Double).self).map { row in
            StoredCredential(
                tenant: Tenant(accountID: row.0, mode: row.1 ? .live : .test), name: row.2,
                sealed: Array(row.3.readableBytesView), version: row.4, updatedAt: Date(unixSeconds: row.5))
        }
    }

    public func deleteCredential(named name: String, for tenant: Tenant) async throws -> Bool {
        try await !database.rows(
            """
            DELETE FROM tenant_credentials
            WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive) AND name = \(name)
            RETURNING version
            """,
            as: Int.self
        ).isEmpty
    }

    public func auditRecords(for tenant: Tenant) async throws -> [AuditRecord] {
        try await database.rows(
            """
            SELECT action, reason, created_at FROM audit_log
            WHERE account_id = \(tenant.accountID) AND livemode = \(tenant.mode.isLive) ORDER BY id
            """,
            as: (String, String, Double).self
        ).map { AuditRecord(tenant: tenant, action: $0.0, reason: $0.1, date: Date(unixSeconds: $0.2)) }
    }
}
