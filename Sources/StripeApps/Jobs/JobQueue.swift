#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The durable job queue, on the same lease machinery as the event inbox.
///
/// A worker ``claim(now:limit:lease:owner:)``s due jobs (highest priority first, then the oldest `runAt`), extends
/// their leases with ``heartbeat(_:now:lease:)`` while they run (which also tells it when someone asked a job to
/// stop), and settles each with ``complete(_:now:)``, ``fail(_:error:retryAt:now:)`` or ``stopped(_:now:)``. Every
/// claim bumps the job's fencing token, so a worker whose lease expired can no longer record anything.
public protocol JobQueue: Sendable {
    /// Stores a pending job; returns it, or `nil` when a job with its slot key exists (that slot already has its
    /// run), which changes nothing.
    func push(_ job: NewJob, now: Date) async throws -> JobRecord?
    /// Leases up to `limit` due jobs to `owner`: pending or failed ones whose `runAt` has come, and running ones
    /// whose lease expired. Each becomes running, counts one more attempt and gets a new token; no job is claimed
    /// twice at once. A running job asked to stop whose lease expired (its worker died) becomes cancelled instead.
    func claim(now: Date, limit: Int, lease: Duration, owner: String) async throws -> [ClaimedJob]
    /// Records success; `false`, changing nothing, when the claim lost its lease.
    func complete(_ claim: ClaimedJob, now: Date) async throws -> Bool
    /// Records a failed run: retried at `retryAt`, dead when it is `nil`; `false` when the claim lost its lease.
    func fail(_ claim: ClaimedJob, error: String, retryAt: Date?, now: Date) async throws -> Bool
    /// Records that a run asked to stop did stop: the job is cancelled; `false` when the claim lost its lease.
    func stopped(_ claim: ClaimedJob, now: Date) async throws -> Bool
    /// Extends the leases of the claims still held to `lease` from `now`; for each, whether the job was asked to
    /// stop.
    func heartbeat(_ claims: [ClaimedJob], now: Date, lease: Duration) async throws -> [String: Bool]
    /// Records a running job's progress (`fraction` from 0 to 1, and a message); `false` when the claim lost its
    /// lease.
    func recordProgress(_ claim: ClaimedJob, fraction: Double?, message: String?) async throws -> Bool
    /// Cancels a job: a pending or failed one at once, a running one by asking its worker to stop. Returns the job
    /// as it is then, or `nil` when there is none with this id; a finished job is returned unchanged.
    func cancel(id: String, now: Date) async throws -> JobRecord?
    /// Makes a dead or cancelled job pending again with no attempts counted; `false` when there is no such job.
    func replay(id: String, now: Date) async throws -> Bool
    /// One job.
    func job(id: String) async throws -> JobRecord?
    /// Jobs, newest first, optionally of one status.
    func jobs(status: JobRecord.Status?, limit: Int) async throws -> [JobRecord]
    /// Deletes up to `limit` succeeded, cancelled and dead jobs that finished before `cutoff`, oldest first;
    /// returns how many.
    func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int
}

extension JobRecord {
    /// A progress fraction as every store keeps it: within 0...1, or `nil` when not a number.
    package static func storedProgress(_ fraction: Double?) -> Double? {
        guard let fraction, fraction.isFinite else { return nil }
        return min(1, max(0, fraction))
    }

    /// A progress message as every store keeps it: at most 500 characters.
    package static func storedProgressMessage(_ message: String?) -> String? {
        message.map { String($0.prefix(500)) }
    }
}

/// A job outcome as the database backends batch it (several outcomes share one transaction).
package struct JobSettlement: Sendable {
    package let id: String
    package let token: Int64
    package let status: JobRecord.Status
    package let runAt: Double?
    package let finishedAt: Double?
    package let error: String?

    private init(
        _ claim: ClaimedJob, status: JobRecord.Status, runAt: Date?, finishedAt: Date?, error: String?
    ) {
        self.id = claim.id
        self.token = claim.token
        self.status = status
        self.runAt = runAt?.timeIntervalSince1970
        self.finishedAt = finishedAt?.timeIntervalSince1970
        self.error = error
    }

    /// The run succeeded.
    package static func completed(_ claim: ClaimedJob, now: Date) -> JobSettlement {
        JobSettlement(claim, status: .succeeded, runAt: nil, finishedAt: now, error: nil)
    }

    /// The run failed: retried at `retryAt`, dead when it is `nil`; the error kept as every store keeps it.
    package static func failed(_ claim: ClaimedJob, error: String, retryAt: Date?, now: Date) -> JobSettlement {
        JobSettlement(
            claim, status: retryAt == nil ? .dead : .failed, runAt: retryAt, finishedAt: retryAt == nil ? now : nil,
            error: InboxEvent.storedError(error))
    }

    /// The run stopped as asked: the job is cancelled.
    package static func stopped(_ claim: ClaimedJob, now: Date) -> JobSettlement {
        JobSettlement(claim, status: .cancelled, runAt: nil, finishedAt: now, error: nil)
    }
}
