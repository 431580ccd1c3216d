import StripeApps
import Synchronization
import Testing

@Suite struct GroupCommitTests {
    @Test func concurrentSubmissionsShareTransactionsAndGetTheirOwnResults() async throws {
        let batches = Mutex<[Int]>([])
        let batcher = GroupCommit<Int, Int>(maximumBatch: 64) { items in
            batches.withLock { $0.append(items.count) }
            await Task.yield()
            return items.map { $0 * 2 }
        }
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for value in 0..<500 { group.addTask { (value, try await batcher.submit(value)) } }
            return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 500)
        #expect(results.allSatisfy { $0.value == $0.key * 2 })
        let sizes = batches.withLock { $0 }
        #expect(sizes.reduce(0, +) == 500)
        #expect(sizes.allSatisfy { $0 <= 64 })
        #expect(sizes.count < 500, "concurrent submissions were never batched")
    }

    @Test func aFailedTransactionFailsEveryItemInItAndTheNextOneWorks() async throws {
        struct DiskFull: Error {}
        let fail = Mutex(true)
        let batcher = GroupCommit<Int, Int> { items in
            if fail.withLock({ $0 }) { throw DiskFull() }
            return items
        }
        await #expect(throws: DiskFull.self) { try await batcher.submit(1) }
        fail.withLock { $0 = false }
        #expect(try await batcher.submit(2) == 2)
    }

    /// With two leaders, at most two batches are written at once, both do overlap, every item is written once
    /// and gets its own result, and no lead is lost: later submissions still complete (thousands of rounds, in
    /// which a lead is often passed to a caller whose item another leader already took).
    @Test func concurrentLeadersWriteEachItemOnceAndNeverLoseALead() async throws {
        let writing = Mutex((now: 0, most: 0))
        let written = Mutex<[Int: Int]>([:])
        let batcher = GroupCommit<Int, Int>(maximumBatch: 8, maximumConcurrentBatches: 2) { items in
            writing.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            for item in items { written.withLock { $0[item, default: 0] += 1 } }
            await Task.yield()
            await Task.yield()
            writing.withLock { $0.now -= 1 }
            return items.map { -$0 }
        }
        for round in 0..<20 {
            let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for value in (round * 500)..<((round + 1) * 500) {
                    group.addTask { (value, try await batcher.submit(value)) }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == 500 && results.allSatisfy { $0.value == -$0.key })
        }
        #expect(written.withLock { $0.count == 10_000 && $0.values.allSatisfy { $0 == 1 } })
        #expect(writing.withLock { $0.most } == 2, "two batches overlapped, never three")
        #expect(try await batcher.submit(-1) == 1, "a lone submission after all of that still leads")
    }
}
