import Synchronization

/// Batches concurrent writes into one transaction ("group commit").
///
/// With `synchronous=FULL`, every SQLite commit waits for the disk. Committing each webhook delivery on its
/// own caps the inbox at one delivery per disk sync; here, deliveries that arrive while a transaction is
/// being written wait and go together in the next one. No background task: the first caller becomes the
/// leader and writes a batch; before handing out the results it passes the lead to the first caller still
/// waiting, so no caller keeps writing for others indefinitely. Where the database takes overlapping commits
/// (PostgreSQL), up to `maximumConcurrentBatches` leaders write at once.
package final class GroupCommit<Item: Sendable, Output: Sendable>: Sendable {
    private final class Slot: Sendable {
        enum Signal: Sendable {
            case lead
            case done(Result<Output, any Error>)
        }

        /// Signals in the order sent.
        private let state = Mutex<(signals: [Signal], waiter: CheckedContinuation<Signal, Never>?)>(([], nil))
        /// Whether this caller holds a lead it has not used yet. Granted under the queue's lock, used once: with
        /// several leaders, another one may take this caller's item and deliver its result before the `.lead`
        /// signal arrives, and the lead must still be used (or passed on), never lost.
        private let lead = Mutex(false)

        func grantLead() { lead.withLock { $0 = true } }

        func takeLead() -> Bool {
            lead.withLock { held in
                defer { held = false }
                return held
            }
        }

        func send(_ signal: Signal) {
            let waiter = state.withLock { state -> CheckedContinuation<Signal, Never>? in
                guard let waiter = state.waiter else {
                    state.signals.append(signal)
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
                    if !state.signals.isEmpty { return state.signals.removeFirst() }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    private struct Queue {
        /// Items not yet taken into a batch; `leading` marks those whose caller holds a lead.
        var entries: [(item: Item, slot: Slot, leading: Bool)] = []
        /// Leads held: batches being written, or about to be.
        var leaders = 0
    }

    private let queue = Mutex(Queue())
    private let maximumBatch: Int
    private let maximumConcurrentBatches: Int
    private let commit: @Sendable ([Item]) async throws -> [Output]

    /// Creates a batcher.
    ///
    /// - Parameters:
    ///   - maximumBatch: The most items one transaction takes.
    ///   - maximumConcurrentBatches: How many batches may be written at once: 1 for SQLite (one writer); more
    ///     for PostgreSQL, whose commits overlap and share their WAL flushes, so a batch need not wait for the
    ///     previous one's round trip.
    ///   - commit: Writes a batch in one transaction and returns one output per item, in order.
    package init(
        maximumBatch: Int = 256, maximumConcurrentBatches: Int = 1,
        commit: @escaping @Sendable ([Item]) async throws -> [Output]
    ) {
        self.maximumBatch = maximumBatch
        self.maximumConcurrentBatches = max(1, maximumConcurrentBatches)
        self.commit = commit
    }

    /// Writes `item` with whatever else is waiting, and returns its output once the transaction committed.
    package func submit(_ item: Item) async throws -> Output {
        let slot = Slot()
        let leads = queue.withLock { queue in
            let leads = queue.leaders < maximumConcurrentBatches
            if leads {
                queue.leaders += 1
                slot.grantLead()
            }
            queue.entries.append((item, slot, leads))
            return leads
        }
        if leads { slot.send(.lead) }
        while true {
            switch await slot.receive() {
            case .done(let result):
                // A lead granted to a caller whose item another leader already wrote is used before returning.
                if slot.takeLead() { await writeOneBatch() }
                return try result.get()
            case .lead:
                if slot.takeLead() { await writeOneBatch() }
            }
        }
    }

    /// Writes what is waiting (possibly nothing: another leader may have taken this caller's item), then passes
    /// the lead to the first waiting caller without one, or gives it up.
    private func writeOneBatch() async {
        let batch = queue.withLock { queue in
            let batch = Array(queue.entries.prefix(maximumBatch))
            queue.entries.removeFirst(batch.count)
            return batch
        }
        var outcome: Result<[Output], any Error> = .success([])
        if !batch.isEmpty {
            do {
                let outputs = try await commit(batch.map(\.item))
                precondition(outputs.count == batch.count, "commit must return one output per item")
                outcome = .success(outputs)
            } catch {
                outcome = .failure(error)
            }
        }
        let next = queue.withLock { queue -> Slot? in
            guard let index = queue.entries.firstIndex(where: { !$0.leading }) else {
                queue.leaders -= 1
                return nil
            }
            queue.entries[index].leading = true
            queue.entries[index].slot.grantLead()
            return queue.entries[index].slot
        }
        next?.send(.lead)
        for (index, entry) in batch.enumerated() {
            entry.slot.send(.done(outcome.map { $0[index] }))
        }
    }
}
