import Dispatch
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes log lines to a file descriptor from a buffer, so that a request never waits for a `write(2)`.
///
/// One `write(2)` per line cost about a quarter of the throughput of the signed routes. Here a line is appended
/// to a buffer under a lock and a background queue writes whatever has gathered, many lines per call, at most
/// ``batchInterval`` after the first of them: waking the queue for every line or two cost more than a third of
/// the signed routes' throughput (each wake-up is a thread switch), so a busy server pays one wake-up per
/// interval instead. When the reader is slow (a full pipe), the buffer grows to ``capacity`` and further lines
/// below `error` are dropped and counted, and the count is written as a line of its own once there is room. Lines at `error` and
/// `critical` are never dropped: they are written at once, with everything before them, on the caller's thread,
/// so they are out before a crash. ``flush()`` writes what is left (the server calls it on shutdown).
///
/// Lines keep their order: the buffer is taken and written under one lock.
public final class LogWriter: Sendable {
    /// The process's standard error, shared by every handler writing there.
    public static let standardError = LogWriter(fileDescriptor: 2)

    private struct Pending {
        var buffer: [UInt8] = []
        var isFlushScheduled = false
        var dropped = 0
    }

    private let fileDescriptor: Int32
    /// The most bytes waiting to be written before lines below `error` are dropped.
    public let capacity: Int
    private let pending = Mutex(Pending())
    /// Held while a batch is taken and written, so that batches reach the file in order.
    private let writing = Mutex(())
    private let queue = DispatchQueue(label: "stripe-apps-backend.log-writer")
    private let droppedLine: @Sendable (Int) -> [UInt8]
    /// The longest a line below `error` waits in the buffer before the background queue writes it.
    public let batchInterval: Duration

    /// Creates a writer.
    ///
    /// - Parameters:
    ///   - fileDescriptor: Where lines go.
    ///   - capacity: The most bytes waiting before lines below `error` are dropped (4 MiB by default).
    ///   - batchInterval: The longest a line below `error` waits before it is written (20 ms by default).
    ///   - droppedLine: The line saying how many lines were dropped; a JSON line by default.
    public init(
        fileDescriptor: Int32,
        capacity: Int = 4 << 20,
        batchInterval: Duration = .milliseconds(20),
        droppedLine: @escaping @Sendable (Int) -> [UInt8] = { count in
            Array(
                #"{"level":"warning","label":"stripe-apps-backend","message":"log lines dropped: the log reader was too slow","metadata":{"log.dropped":"\#(count)"}}"#
                    .utf8) + [0x0A]
        }
    ) {
        self.fileDescriptor = fileDescriptor
        self.capacity = capacity
        self.droppedLine = droppedLine
        self.batchInterval = batchInterval
    }

    /// Queues one whole line (with its newline); written at once, with everything before it, when `level` is
    /// `error` or above.
    public func write(_ line: [UInt8], level: Logger.Level) {
        if level >= .error {
            pending.withLock { $0.buffer.append(contentsOf: line) }
            flush()
            return
        }
        let shouldSchedule = pending.withLock { pending -> Bool in
            guard pending.buffer.count + line.count <= capacity else {
                pending.dropped += 1
                return false
            }
            pending.buffer.append(contentsOf: line)
            guard !pending.isFlushScheduled else { return false }
            pending.isFlushScheduled = true
            return true
        }
        if shouldSchedule {
            let (seconds, attoseconds) = batchInterval.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { self.drain() }
        }
    }

    /// Writes every queued line now, on the calling thread.
    public func flush() {
        _ = writeBatch(endingDrain: false)
    }

    /// The background writer: writes batches until none is waiting. Lines queued meanwhile join the next batch
    /// without waking the queue again, so a busy server pays one wake-up per burst, not one per batch.
    private func drain() {
        while writeBatch(endingDrain: true) {}
    }

    /// Takes what is queued and writes it; returns whether there was anything. With `endingDrain`, finding nothing
    /// ends the drain, so that the next line schedules a new one.
    private func writeBatch(endingDrain: Bool) -> Bool {
        writing.withLock { _ in
            let taken = pending.withLock { pending -> (batch: [UInt8], dropped: Int)? in
                guard !pending.buffer.isEmpty || pending.dropped > 0 else {
                    if endingDrain { pending.isFlushScheduled = false }
                    return nil
                }
                defer {
                    pending.buffer = []
                    pending.buffer.reserveCapacity(4096)
                    pending.dropped = 0
                }
                return (pending.buffer, pending.dropped)
            }
            guard let taken else { return false }
            writeAll(taken.batch)
            if taken.dropped > 0 { writeAll(droppedLine(taken.dropped)) }
            return true
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(fileDescriptor, base + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// `write(2)`, under a name the writer's own `write` does not hide.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
