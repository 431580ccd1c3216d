import Foundation
import Logging
import PostgresNIO
import StripeApps

/// The client and what the role stores share: queries, transactions and the error rule.
///
/// Every PostgreSQL failure becomes ``StripeApps/StoreError/Code/unavailable`` with a generic message (the
/// error's code and SQLSTATE, never its text, which may quote data), so the server answers 503 and nothing
/// reaches a client or a log line that should not.
final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// The longest one store operation may take, waiting for a connection included.
    let timeout: Duration
    let enqueueBatcher: GroupCommit<PostgresEventInbox.Delivery, InboxArrival>
    let settleBatcher: GroupCommit<InboxSettlement, Bool>
    /// Job outcomes that arrive together: one statement, one commit.
    let jobSettleBatcher: GroupCommit<JobSettlement, Bool>
    /// Job pushes that arrive together: one statement, one commit.
    let jobPushBatcher: GroupCommit<JobRecord, Bool>
    /// The channel `NOTIFY` wakes other instances' workers on.
    static let inboxChannel = "stripe_apps_inbox"
    /// The channel `NOTIFY` wakes other instances' job workers on.
    static let jobsChannel = "stripe_apps_jobs"

    /// How many batches of job pushes are written at once: PostgreSQL overlaps commits and flushes their WAL
    /// together, so a second batch need not wait for the first one's round trip (jobs-bench pushes 3.2-4.6k ->
    /// 4.9-5.5k/s). Everything else is written one batch at a time, where larger batches won: job outcomes
    /// (claims+completions at JOB_CONCURRENCY=8: 5,392-6,335/s one at a time, 3,042-3,924/s two at once), and
    /// webhook deliveries, where the server and PostgreSQL share the cores with the load (three interleaved rounds
    /// of the webhook bench: one instance 10,039-11,787 events/s one at a time against 7,967-8,926 two at once,
    /// two instances 6,874-8,663 against 5,443-6,655).
    static let concurrentJobPushBatches = 2

    /// SQL that is true when the tenant of `row` (a table or alias with `account_id` and `livemode`) is blocked: the
    /// one rule by which the inbox's insert and claim and the job claim read a block, in the statement that writes.
    static func tenantIsBlocked(_ row: String) -> String {
        """
        EXISTS (
            SELECT 1 FROM installations AS i
            WHERE i.account_id = \(row).account_id AND i.livemode = \(row).livemode AND i.blocked_at IS NOT NULL)
        """
    }

    init(client: PostgresClient, logger: Logger, timeout: Duration, preparesStatements: Bool) {
        self.client = client
        self.logger = logger
        self.timeout = timeout
        enqueueBatcher = GroupCommit { [client, logger] deliveries in
            try await Deadline.run(timeout) {
                try await PostgresEventInbox.insert(
                    deliveries, client: client, prepared: preparesStatements, logger: logger)
            }
        }
        jobSettleBatcher = GroupCommit {
            [client, logger] settlements in
            try await Deadline.run(timeout) {
                try await PostgresJobQueue.settle(settlements, client: client, logger: logger)
            }
        }
        jobPushBatcher = GroupCommit(maximumConcurrentBatches: Self.concurrentJobPushBatches) {
            [client, logger] records in
            try await Deadline.run(timeout) {
                try await PostgresJobQueue.push(records, client: client, logger: logger)
            }
        }
        settleBatcher = GroupCommit { [client, logger] settlements in
            try await Deadline.run(timeout) {
                try await PostgresEventInbox.settle(settlements, client: client, logger: logger)
            }
        }
    }

    /// Runs `operation`, or throws ``StripeApps/StoreError/Code/unavailable`` once `limit` has passed.
    ///
    /// postgres-nio's pool keeps a request waiting while it retries connecting, and fails requests only after a
    /// minute of failures (its circuit breaker, not configurable here). A webhook must get its 503 much sooner, so
    /// that Stripe retries rather than times out, and `/readyz` must answer while the database is down.
    static func deadline<R: Sendable>(_ limit: Duration?, _ operation: @Sendable () async throws -> R) async throws
        -> R
    {
        guard let limit else { return try await operation() }
        return try await withoutActuallyEscaping(operation) { operation in
            try await withThrowingTaskGroup(of: R.self) { group in
                group.addTask { try await operation() }
                group.addTask {
                    try await Task.sleep(for: limit)
                    throw StoreError(.unavailable, message: "PostgreSQL did not answer within \(limit).")
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw CancellationError() }
                return first
            }
        }
    }

    /// Runs `body` (a batcher's submission) in a span named after the calling store method
    /// (``StripeApps/StorageSpan``).
    func traced<T>(
        fileID: String = #fileID, function: String = #function, _ body: () async throws -> T
    ) async throws -> T {
        try await StorageSpan.run(system: "postgresql", fileID: fileID, function: function, body)
    }

    /// Runs one statement, ignoring any rows, in a span named after the calling store method.
    func execute(_ query: PostgresQuery, fileID: String = #fileID, function: String = #function) async throws {
        let (client, logger, timeout) = (client, logger, timeout)
        try await traced(fileID: fileID, function: function) {
            do {
                try await Deadline.run(timeout) {
                    for try await _ in try await client.query(query, logger: logger) {}
                }
            } catch {
                throw Self.storeError(error)
            }
        }
    }

    /// Runs one statement and collects its rows, decoded, in a span named after the calling store method.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery,
        as types: (repeat each Column).Type,
        fileID: String = #fileID,
        function: String = #function
    ) async throws -> [(repeat each Column)] {
        let (client, logger, timeout) = (client, logger, timeout)
        return try await traced(fileID: fileID, function: function) {
            do {
                return try await Deadline.run(timeout) {
                    var result: [(repeat each Column)] = []
                    for try await row in try await client.query(query, logger: logger).decode(
                        (repeat each Column).self)
                    {
                        result.append(row)
                    }
                    return result
                }
            } catch {
                throw Self.storeError(error)
            }
        }
    }

    /// Runs `body` in one transaction on one connection: committed when it returns, rolled back when it throws.
    ///
    /// Errors `body` throws itself (a version conflict, a refused update) come out as they are; PostgreSQL
    /// failures as ``StripeApps/StoreError/Code/unavailable``. (postgres-nio's `withTransaction` wraps every
    /// error in a `PostgresTransactionError`, which would hide ours.)
    func transaction<R: Sendable>(
        deadline: Bool = true,
        fileID: String = #fileID,
        function: String = #function,
        _ body: @Sendable (PostgresConnection) async throws -> R
    ) async throws -> R {
        try await traced(fileID: fileID, function: function) {
            try await untracedTransaction(deadline: deadline, body)
        }
    }

    private func untracedTransaction<R: Sendable>(
        deadline: Bool, _ body: @Sendable (PostgresConnection) async throws -> R
    ) async throws -> R {
        let (client, logger) = (client, logger)
        do {
            return try await Self.deadline(deadline ? timeout : nil) {
                try await client.withConnection { connection in
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        let result = try await body(connection)
                        try await connection.query("COMMIT", logger: logger)
                        return result
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw error
                    }
                }
            }
        } catch let error as PSQLError {
            throw Self.storeError(error)
        } catch let error as PostgresDecodingError {
            throw Self.storeError(error)
        }
    }

    /// The SQLSTATE of a server error, e.g. `23505` for a unique violation.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// A generic, safe ``StoreError`` for a PostgreSQL failure.
    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError {
            let state = sqlState(error).map { " SQLSTATE \($0)" } ?? ""
            return StoreError(.unavailable, message: "PostgreSQL is unavailable (\(error.code)\(state)).")
        }
        return StoreError(.unavailable, message: "PostgreSQL is unavailable (\(type(of: error))).")
    }
}

extension PostgresConnection {
    /// Runs one statement inside a transaction of ``PostgresDatabase/transaction(_:)``, decoding its rows.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery,
        as types: (repeat each Column).Type,
        logger: Logger
    ) async throws -> [(repeat each Column)] {
        var result: [(repeat each Column)] = []
        for try await row in try await self.query(query, logger: logger).decode((repeat each Column).self) {
            result.append(row)
        }
        return result
    }
}

extension Date {
    /// A date read from a `double precision` column of Unix seconds.
    init(unixSeconds: Double) {
        self.init(timeIntervalSince1970: unixSeconds)
    }
}
