import StripeApps
import Synchronization

/// Runs an operation with a time limit, returning at the limit even if the operation does not stop.
///
/// A task group would wait for its children: a connection request that does not react to cancellation (seen
/// in postgres-nio's pool when a request was queued while the server went away) would keep the caller, and a
/// group-commit batch with it, waiting after the database came back. Here the caller is answered at the limit,
/// the operation is cancelled, and whatever it does later is ignored.
enum Deadline {
    static func run<R: Sendable>(
        _ limit: Duration,
        _ operation: @escaping @Sendable () async throws -> R
    ) async throws -> R {
        let race = Race<R>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(
                    continuation,
                    work: Task { race.finish(with: await Result { try await operation() }) },
                    timer: Task {
                        try? await Task.sleep(for: limit)
                        race.finish(
                            with: .failure(
                                StoreError(.unavailable, message: "PostgreSQL did not answer within \(limit).")))
                    }
                )
            }
        } onCancel: {
            race.finish(with: .failure(CancellationError()))
        }
    }
}

/// The first result wins; the other task is cancelled.
private final class Race<R: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<R, any Error>?
        var tasks: [Task<Void, Never>] = []
        var early: Result<R, any Error>?
        var isFinished = false
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<R, any Error>, work: Task<Void, Never>, timer: Task<Void, Never>) {
        let early = state.withLock { state -> Result<R, any Error>? in
            state.tasks = [work, timer]
            guard let early = state.early else {
                state.continuation = continuation
                return nil
            }
            return early
        }
        if let early {
            work.cancel()
            timer.cancel()
            continuation.resume(with: early)
        }
    }

    func finish(with result: Result<R, any Error>) {
        let (continuation, tasks) = state.withLock {
            state -> (CheckedContinuation<R, any Error>?, [Task<Void, Never>]) in
            guard !state.isFinished else { return (nil, []) }
            state.isFinished = true
            guard let continuation = state.continuation else {
                state.early = result
                return (nil, state.tasks)
            }
            state.continuation = nil
            return (continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing call.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
