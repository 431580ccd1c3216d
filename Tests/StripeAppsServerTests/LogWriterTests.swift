import Foundation
import Logging
import StripeApps
import StripeAppsServer
import Synchronization
import Testing

/// The buffered log writer: whole lines, in order, nothing lost but counted drops below `error`.
@Suite struct LogWriterTests {
    /// Reads a pipe to its end on a thread of its own.
    final class PipeReader: Sendable {
        private let done = Mutex<CheckedContinuation<Data, Never>?>(nil)
        private let result = Mutex<Data?>(nil)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                let data = handle.readDataToEndOfFile()
                let waiting = done.withLock { continuation -> CheckedContinuation<Data, Never>? in
                    result.withLock { $0 = data }
                    defer { continuation = nil }
                    return continuation
                }
                waiting?.resume(returning: data)
            }
        }

        var text: String {
            get async {
                let data = await withCheckedContinuation { continuation in
                    let ready = done.withLock { waiting -> Data? in
                        if let data = result.withLock({ $0 }) { return data }
                        waiting = continuation
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
                return String(decoding: data, as: UTF8.self)
            }
        }
    }

    /// Without a flush, the background queue writes what gathered by itself, after the batch interval.
    @Test func queuedLinesAreWrittenWithoutAFlush() async throws {
        let pipe = Pipe()
        let writer = LogWriter(
            fileDescriptor: pipe.fileHandleForWriting.fileDescriptor, batchInterval: .milliseconds(5))
        for line in 0..<500 { writer.write(Array("line \(line)\n".utf8), level: .info) }
        let expected = (0..<500).map { "line \($0)\n" }.joined()
        // Reads until every line arrived; a writer that never drained would leave the test waiting, so the read
        // runs with a deadline of its own.
        let received = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                var data = Data()
                while data.count < expected.utf8.count {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                }
                return String(decoding: data, as: UTF8.self)
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                try? pipe.fileHandleForWriting.close()
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        #expect(received == expected)
        try? pipe.fileHandleForWriting.close()
    }

    /// Lines from many tasks at once arrive whole, each task's in the order it wrote them.
    @Test func concurrentLinesArriveWholeAndInOrder() async throws {
        let pipe = Pipe()
        let reader = PipeReader(pipe.fileHandleForReading)
        let writer = LogWriter(fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for line in 0..<2_000 {
                        writer.write(
                            Array("task \(task) line \(line) \(String(repeating: "x", count: 40))\n".utf8), level: .info
                        )
                    }
                }
            }
        }
        writer.flush()
        try pipe.fileHandleForWriting.close()
        let lines = await reader.text.split(separator: "\n")
        #expect(lines.count == 16_000)
        var next = [Int](repeating: 0, count: 8)
        for line in lines {
            let words = line.split(separator: " ")
            guard words.count == 5, let task = Int(words[1]), let number = Int(words[3]), words[4].count == 40 else {
                Issue.record("a torn line: \(line)")
                return
            }
            #expect(number == next[task], "task \(task) out of order")
            next[task] = number + 1
        }
    }

    /// While the reader does not read, lines below `error` beyond the buffer are dropped and counted; an `error`
    /// line is never dropped, and comes out after everything written before it.
    @Test func aStalledReaderDropsAndCountsInfoLinesButNeverAnError() async throws {
        let pipe = Pipe()
        let writer = LogWriter(fileDescriptor: pipe.fileHandleForWriting.fileDescriptor, capacity: 8 << 10)
        let sent = 3_000
        // 300 KB of lines: far more than the pipe (64 KiB) and the buffer (8 KiB) hold while nobody reads.
        for line in 0..<sent {
            writer.write(Array("info \(line) \(String(repeating: "y", count: 88))\n".utf8), level: .info)
        }
        // The error line waits for the pipe, so it is written from a task, then the pipe is read.
        let error = Task.detached { writer.write(Array("error the-one-that-matters\n".utf8), level: .error) }
        let reader = PipeReader(pipe.fileHandleForReading)
        await error.value
        writer.flush()
        try pipe.fileHandleForWriting.close()
        let lines = await reader.text.split(separator: "\n")
        let infos = lines.filter { $0.hasPrefix("info ") }.compactMap { Int($0.split(separator: " ")[1]) }
        #expect(infos == infos.sorted(), "kept lines stay in order")
        // Each batch written after drops reports its own count.
        let counts = try lines.filter { $0.contains("log lines dropped") }.map { line in
            try PayloadValue.parse(String(line))["metadata"]?["log.dropped"]?.stringValue.flatMap { Int($0) }
        }
        #expect(!counts.isEmpty && counts.allSatisfy { $0 != nil }, "the drops are reported")
        let dropped = counts.compactMap { $0 }.reduce(0, +)
        #expect(dropped > 0)
        #expect(infos.count + dropped == sent, "every line is either written or counted")
        let errorIndex = try #require(lines.firstIndex(of: "error the-one-that-matters"))
        #expect(lines[..<errorIndex].filter { $0.hasPrefix("info ") }.count == infos.count, "after what came before")
    }

    /// The text format: swift-log's layout, with a UTC time, through the writer.
    @Test func textLinesHaveSwiftLogsLayout() async throws {
        let pipe = Pipe()
        let reader = PipeReader(pipe.fileHandleForReading)
        let writer = LogWriter(fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        var logger = Logger(label: "test.label") { TextLogHandler(label: $0, level: .info, writer: writer) }
        logger[metadataKey: "b"] = "2"
        logger.info("hello", metadata: ["a": "1"])
        logger.debug("below the level")
        logger.error("boom")
        writer.flush()
        try pipe.fileHandleForWriting.close()
        let lines = await reader.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(
            lines.first?.range(
                of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info test\.label: a=1 b=2 \[\w+\] hello$"#,
                options: .regularExpression) != nil, "\(lines)")
        #expect(lines.last?.hasSuffix("] boom") == true && lines.last?.contains(" error test.label: b=2 [") == true)
    }
}
