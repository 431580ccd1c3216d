import Foundation
import StripeApps
import Testing

/// The counts metrics and the admin page read, on every backend.
@Suite struct StatisticsContractTests {
    static let long = Duration.seconds(600)

    static func event(_ number: Int, receivedAt: Date) -> InboxEvent {
        InboxEvent(
            id: "evt_\(number)", type: "t", isLiveMode: false, accountID: "acct_1", created: Int64(number),
            receivedAt: receivedAt, payload: "{}")
    }

    @Test(arguments: Backend.enabled)
    func emptyStorageCountsZeroInEveryStatus(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = try await storage.statistics.inboxCounts()
            #expect(inbox.byStatus.count == InboxEvent.Status.all.count && inbox.byStatus.values.allSatisfy { $0 == 0 })
            #expect(inbox.oldestPendingReceivedAt == nil)
            let jobs = try await storage.statistics.jobCounts()
            #expect(jobs.byStatus.count == JobRecord.Status.all.count && jobs.byStatus.values.allSatisfy { $0 == 0 })
            #expect(jobs.oldestWaitingRunAt == nil)
        }
    }

    /// One event in each status but two pending: each is counted where it is, and the oldest pending one is the
    /// oldest *received* among those not yet run (not among all).
    @Test(arguments: Backend.enabled)
    func inboxEventsAreCountedByStatusWithTheOldestPending(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let inbox = storage.inbox
            let start = Date(timeIntervalSince1970: 1_700_000_000)
            for number in 1...6 {
                _ = try await inbox.enqueue(Self.event(number, receivedAt: start.addingTimeInterval(Double(number))))
            }
            let now = Date()
            let claims = try await inbox.claim(now: now, limit: 4, lease: Self.long, owner: "w")
            #expect(claims.map(\.id) == ["evt_1", "evt_2", "evt_3", "evt_4"])
            #expect(try await inbox.complete(claims[0]))
            #expect(try await inbox.fail(claims[1], error: "later", retryAt: now.addingTimeInterval(60)))
            #expect(try await inbox.fail(claims[2], error: "no more", retryAt: nil))
            let counts = try await storage.statistics.inboxCounts()
            #expect(counts[.pending] == 2 && counts[.running] == 1 && counts[.succeeded] == 1)
            #expect(counts[.failed] == 1 && counts[.dead] == 1)
            let oldest = try #require(counts.oldestPendingReceivedAt)
            #expect(abs(oldest.timeIntervalSince(start.addingTimeInterval(5))) < 0.001)
        }
    }

    /// One job in each status but the waiting ones: the oldest waiting `runAt` covers pending and failed jobs.
    @Test(arguments: Backend.enabled)
    func jobsAreCountedByStatusWithTheOldestWaiting(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let jobs = storage.jobs
            let now = Date()
            let first = try #require(
                try await jobs.push(
                    NewJob(name: "dies", priority: 9, maxAttempts: 1, runAt: now.addingTimeInterval(-2)), now: now))
            _ = try #require(
                try await jobs.push(NewJob(name: "runs", priority: 9, runAt: now.addingTimeInterval(-1)), now: now))
            _ = try #require(
                try await jobs.push(NewJob(name: "ok", priority: 5, runAt: now.addingTimeInterval(-10)), now: now))
            _ = try #require(
                try await jobs.push(NewJob(name: "retries", priority: 5, runAt: now.addingTimeInterval(-5)), now: now))
            let waiting = now.addingTimeInterval(-300)
            _ = try #require(try await jobs.push(NewJob(name: "waits", runAt: waiting), now: now))
            let later = try #require(
                try await jobs.push(NewJob(name: "cancelled", runAt: now.addingTimeInterval(3600)), now: now))
            let claims = try await jobs.claim(now: now, limit: 4, lease: Self.long, owner: "w")
            #expect(claims.map(\.job.name) == ["dies", "runs", "ok", "retries"])
            #expect(claims.first?.id == first.id)
            #expect(try await jobs.fail(claims[0], error: "boom", retryAt: nil, now: now))
            #expect(try await jobs.complete(claims[2], now: now))
            #expect(try await jobs.fail(claims[3], error: "again", retryAt: now.addingTimeInterval(60), now: now))
            #expect(try await jobs.cancel(id: later.id, now: now)?.status == .cancelled)
            let counts = try await storage.statistics.jobCounts()
            #expect(counts[.pending] == 1 && counts[.running] == 1 && counts[.succeeded] == 1)
            #expect(counts[.failed] == 1 && counts[.dead] == 1 && counts[.cancelled] == 1)
            let oldest = try #require(counts.oldestWaitingRunAt)
            #expect(abs(oldest.timeIntervalSince(waiting)) < 0.001)
        }
    }
}
