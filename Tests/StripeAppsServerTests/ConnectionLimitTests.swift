import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StripeApps
import StripeAppsServer
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Item 8 of the hardening review, over real sockets: slow clients cannot hold connections, and the number of
/// connections served at once is capped.
@Suite struct ConnectionLimitTests {
    /// Runs the real application with `configuration` on a free port.
    static func withServer(_ configuration: AppConfiguration, _ body: @Sendable (Int) async throws -> Void)
        async throws
    {
        var configuration = configuration
        configuration.port = 0
        let (ports, portSignal) = AsyncStream<Int>.makeStream()
        let app = try buildApplication(
            configuration: configuration, storage: InMemoryStorage(),
            hooks: ApplicationHooks(now: { testNow }, onServerRunning: { portSignal.yield($0) }))
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(await ports.first { _ in true })
            defer { tasks.cancelAll() }
            try await body(port)
        }
    }

    static let healthRequest = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"

    /// Sends `start`, then a piece from `piece` every 200 ms for up to 30 s; returns whether the server closed the
    /// connection, and when. Without the deadlines nothing closes it that soon (Hummingbird's idle timeout, 60 s
    /// here, restarts with every decoded part and never fires before it); a loaded machine may accept and read the
    /// connection late, so the bound is the window, not the 1 s deadline.
    /// With `servedFirst`, that request is sent and its answer's head read on the same connection before the
    /// trickle starts, and returned.
    static func trickle(
        to port: Int, servedFirst: String? = nil, start: String, piece: @escaping @Sendable (Int) -> String
    ) async throws -> (closed: Bool, after: Duration, firstAnswer: String?) {
        try await RawConnection.blocking {
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            var firstAnswer: String?
            if let servedFirst {
                try connection.send(servedFirst)
                firstAnswer = try connection.readResponseHead()
            }
            let began = ContinuousClock.now
            try connection.send(start)
            for index in 0..<150 {
                if connection.isClosedByPeer(waiting: .milliseconds(200)) { break }
                try? connection.send(piece(index))
            }
            return (connection.isClosedByPeer(waiting: .milliseconds(100)), ContinuousClock.now - began, firstAnswer)
        }
    }

    @Test func aClientThatTricklesItsHeadIsDisconnected() async throws {
        var configuration = try AppConfiguration.testing()
        configuration.httpHeaderTimeoutSeconds = 1
        try await Self.withServer(configuration) { port in
            // A header line every 200 ms, never the blank line that ends the head.
            let outcome = try await Self.trickle(to: port, start: "GET /healthz HTTP/1.1\r\nHost: localhost\r\n") {
                "X-Slow-\($0): 1\r\n"
            }
            #expect(outcome.closed, "the server kept a trickling head open for \(outcome.after)")
        }
    }

    /// A kept-alive connection whose last request armed the long body deadline still gets the short head deadline
    /// on its next request: the one timer per connection is brought forward, not left at the later time.
    @Test func aTricklingHeadAfterAServedRequestIsDisconnectedByTheHeadDeadline() async throws {
        var configuration = try AppConfiguration.testing()
        configuration.httpHeaderTimeoutSeconds = 1
        configuration.httpBodyTimeoutSeconds = 120
        try await Self.withServer(configuration) { port in
            let outcome = try await Self.trickle(
                to: port, servedFirst: Self.healthRequest, start: "GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
            ) { "X-Slow-\($0): 1\r\n" }
            #expect(outcome.firstAnswer?.hasPrefix("HTTP/1.1 200") == true, "\(outcome.firstAnswer ?? "no answer")")
            #expect(outcome.closed, "the server kept a trickling head open for \(outcome.after)")
            #expect(outcome.after < .seconds(29), "closed by the head deadline, not the end of the trickle")
        }
    }

    @Test func aClientThatTricklesItsBodyIsDisconnected() async throws {
        var configuration = try AppConfiguration.testing()
        configuration.httpBodyTimeoutSeconds = 1
        try await Self.withServer(configuration) { port in
            let head =
                "POST /webhooks/test HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n"
            let outcome = try await Self.trickle(to: port, start: head) { _ in "{" }
            #expect(outcome.closed, "the server kept a trickling body open for \(outcome.after)")
        }
    }

    @Test func anIdleConnectionIsClosedAndAKeptAliveOneServesAgain() async throws {
        var configuration = try AppConfiguration.testing()
        configuration.httpIdleTimeoutSeconds = 1
        try await Self.withServer(configuration) { port in
            let outcome = try await RawConnection.blocking {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                // Two requests on one connection: the deadlines rearm between them.
                try connection.send(Self.healthRequest)
                let first = try connection.readResponseHead()
                try connection.send(Self.healthRequest)
                let second = try connection.readResponseHead()
                let start = ContinuousClock.now
                let closed = connection.isClosedByPeer(waiting: .seconds(30))
                return (first, second, closed, ContinuousClock.now - start)
            }
            #expect(outcome.0.hasPrefix("HTTP/1.1 200"), "\(outcome.0)")
            #expect(outcome.1.hasPrefix("HTTP/1.1 200"), "\(outcome.1)")
            #expect(outcome.2, "an idle connection stayed open")
            #expect(outcome.3 < .seconds(30), "an idle connection is closed after 1 s; 60 s without the setting")
        }
    }

    @Test func connectionsPastTheLimitWaitUntilOneCloses() async throws {
        var configuration = try AppConfiguration.testing()
        configuration.maximumConnections = 2
        try await Self.withServer(configuration) { port in
            let outcome = try await RawConnection.blocking {
                let held = try (0..<2).map { _ in try RawConnection(port: port) }
                for connection in held {
                    try connection.send(Self.healthRequest)
                    _ = try connection.readResponseHead()
                }
                let third = try RawConnection(port: port)
                defer { third.close() }
                try third.send(Self.healthRequest)
                let answeredWhileFull = third.hasData(waiting: .seconds(1))
                for connection in held { connection.close() }
                let answer = try third.readResponseHead()
                return (answeredWhileFull, answer)
            }
            #expect(!outcome.0, "a third connection was served while two were open")
            #expect(outcome.1.hasPrefix("HTTP/1.1 200"), "\(outcome.1)")
        }
    }
}

/// A blocking TCP client on 127.0.0.1, for what an HTTP client library would not do (trickle, hold, misbehave).
final class RawConnection: @unchecked Sendable {
    // One test thread owns each connection; nothing is shared.
    private let descriptor: Int32

    /// Runs `body` on a thread of its own, off the cooperative pool that the server under test uses.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// Whether bytes (or the end of the stream) are ready to read within `limit`.
    func hasData(waiting limit: Duration) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000)
        return poll(&poller, 1, milliseconds) > 0
    }

    /// Whether the server closed the connection (end of stream or reset) within `limit`; bytes it sent are skipped.
    func isClosedByPeer(waiting limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            guard hasData(waiting: deadline - ContinuousClock.now) else { return false }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return true }
        }
        return false
    }

    /// The status line and headers of the next response, waiting up to 30 s (a loaded machine may accept late);
    /// its body is read and dropped.
    func readResponseHead() throws -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            guard hasData(waiting: .seconds(30)) else { throw POSIXError(.ETIMEDOUT) }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { throw POSIXError(.ECONNRESET) }
            received += buffer[0..<count]
            let text = String(decoding: received, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            let head = String(text[..<end.lowerBound])
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            var body = received.count - text[..<end.upperBound].utf8.count
            while body < length {
                guard hasData(waiting: .seconds(30)) else { throw POSIXError(.ETIMEDOUT) }
                let count = recv(descriptor, &buffer, buffer.count, 0)
                guard count > 0 else { throw POSIXError(.ECONNRESET) }
                body += count
            }
            return head
        }
    }

    func close() {
        Glibc.close(descriptor)
    }
}
