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
}
