import Synchronization

/// Batches concurrent writes into one transaction ("group commit").
///
/// With `synchronous=FULL`, every SQLite commit waits for the disk. Committing each webhook delivery on its
/// own caps the inbox at one delivery per disk sync; here, deliveries that arrive while a transaction is
/// being written wait and go together in the next one. No background task: the first caller becomes the
/// leader and writes a batch; before handing out the results it passes the lead to the first caller still
/// waiting, so no caller keeps writing for others indefinitely.
package final class GroupCommit<Item: Sendable, Output: Sendable>: Sendable {
    private final class Slot: Sendable {
        enum Signal: Sendable {
            case lead
            case done(Result<Output, any Error>)
        }

        private let state = Mutex<(signal: Signal?, waiter: CheckedContinuation<Signal, Never>?)>((nil, nil))

        func send(_ signal: Signal) {
            let waiter = state.withLock { state -> CheckedContinuation<Signal, Never>? in
                guard let waiter = state.waiter else {
                    state.signal = signal
                    return nil
                }
                state.waiter = nil
                return waiter
            }
            waiter?.resume(returning: signal)
        }

        func receive() async -> Signal {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Signal? in
                    if let signal = state.signal {
                        state.signal = nil
                        return signal
                    }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    private struct Queue {
        var entries: [(item: Item, slot: Slot)] = []
        var hasLeader = false
    }

    private let queue = Mutex(Queue())
    private let maximumBatch: Int
    private let commit: @Sendable ([Item]) async throws -> [Output]

    /// Creates a batcher.
    ///
    /// - Parameters:
    ///   - maximumBatch: The most items one transaction takes.
    ///   - commit: Writes a batch in one transaction and returns one output per item, in order.
    package init(maximumBatch: Int = 256, commit: @escaping @Sendable ([Item]) async throws -> [Output]) {
        self.maximumBatch = maximumBatch
        self.commit = commit
    }

    /// Writes `item` with whatever else is waiting, and returns its output once the transaction committed.
    package func submit(_ item: Item) async throws -> Output {
        let slot = Slot()
        let leads = queue.withLock { queue in
            queue.entries.append((item, slot))
            guard !queue.hasLeader else { return false }
            queue.hasLeader = true
            return true
        }
        if leads { slot.send(.lead) }
        while true {
            switch await slot.receive() {
            case .done(let result): return try result.get()
            case .lead: await writeOneBatch()
            }
        }
    }

    private func writeOneBatch() async {
        let batch = queue.withLock { queue in
            let batch = Array(queue.entries.prefix(maximumBatch))
            queue.entries.removeFirst(batch.count)
            return batch
        }
        let outcome: Result<[Output], any Error>
        do {
            let outputs = try await commit(batch.map(\.item))
            precondition(outputs.count == batch.count, "commit must return one output per item")
            outcome = .success(outputs)
        } catch {
            outcome = .failure(error)
        }
        let next = queue.withLock { queue -> Slot? in
            guard let first = queue.entries.first else {
                queue.hasLeader = false
                return nil
            }
            return first.slot
        }
        next?.send(.lead)
        for (index, entry) in batch.enumerated() {
            entry.slot.send(.done(outcome.map { $0[index] }))
        }
    }
}
