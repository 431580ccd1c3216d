import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// How long a client may take to send a request, so that slow clients cannot hold connections and memory until
/// webhooks fail (`HTTP_HEADER_TIMEOUT_SECONDS`, `HTTP_BODY_TIMEOUT_SECONDS`).
///
/// Hummingbird's idle timeout (`HTTP_IDLE_TIMEOUT_SECONDS`) closes a connection that sends nothing, but restarts
/// with every decoded part: a client trickling a body a byte at a time stays open, and one trickling its head is
/// only caught once the whole idle time passed without a decoded part. Neither library offers a deadline for a
/// whole head or a whole body, hence these two handlers:
/// - ``FirstByteHandler``, first in the pipeline, sees raw bytes: the first byte of a request starts the head
///   deadline;
/// - ``RequestDeadlineHandler``, after HTTP decoding, sees the parts: the head ends the head deadline and starts the
///   body deadline, the end of the request ends that.
/// Past a deadline the connection is closed; a request already read is never cut short while it is answered.
struct ConnectionDeadlines: Sendable {
    /// The longest a request head may take from its first byte.
    var head: TimeAmount
    /// The longest a request body may take from the end of its head.
    var body: TimeAmount

    /// The handlers of one new connection.
    func handlers() -> [any RemovableChannelHandler] {
        [RequestDeadlineHandler(deadlines: self)]
    }
}

/// The phase of one connection, shared by its two handlers (both run on the connection's event loop).
///
/// Arming a deadline only records it: one timer per connection checks it when it fires, closes the connection if
/// the deadline has passed, and otherwise sleeps until the deadline recorded by then (or stops when there is none).
/// Scheduling and cancelling a timer for the head and again for the body of every request cost about a tenth of a
/// small request's CPU; a busy keep-alive connection now reschedules once per timeout period.
final class ConnectionPhase {
    enum Phase {
        /// Between requests: Hummingbird's idle timeout applies.
        case waiting
        case readingHead
        case readingBody
        /// Read whole, being answered.
        case answering
    }

    var phase = Phase.waiting
    /// When the connection is closed unless the phase moves on first; `nil` when no deadline runs.
    private var deadline: NIODeadline?
    /// The pending check, and when it fires.
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?

    func arm(_ timeout: TimeAmount, on context: ChannelHandlerContext) {
        let due = NIODeadline.now() + timeout
        deadline = due
        // A pending check that fires by then will see the new deadline; one that fires later must come sooner.
        if let timer, timer.at <= due { return }
        timer?.task.cancel()
        schedule(at: due, on: context.eventLoop, channel: context.channel)
    }

    func disarm() {
        deadline = nil
    }

    /// Stops the pending check (the connection is gone).
    func stop() {
        deadline = nil
        timer?.task.cancel()
        timer = nil
    }

    private func schedule(at due: NIODeadline, on eventLoop: any EventLoop, channel: any Channel) {
        // The phase lives on the connection's event loop, where the check runs too.
        let phase = NIOLoopBound(self, eventLoop: eventLoop)
        let task = eventLoop.scheduleTask(deadline: due) { phase.value.check(on: eventLoop, channel: channel) }
        timer = (task, due)
    }

    private func check(on eventLoop: any EventLoop, channel: any Channel) {
        timer = nil
        guard let deadline else { return }
        if deadline <= .now() {
            channel.close(promise: nil)
        } else {
            schedule(at: deadline, on: eventLoop, channel: channel)
        }
    }
}

/// Starts the head deadline at the first byte of a request; added at the front of the pipeline by
/// ``RequestDeadlineHandler``.
final class FirstByteHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let phase: ConnectionPhase
    private let headTimeout: TimeAmount

    init(phase: ConnectionPhase, headTimeout: TimeAmount) {
        self.phase = phase
        self.headTimeout = headTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase.phase == .waiting {
            phase.phase = .readingHead
            phase.arm(headTimeout, on: context)
        }
        context.fireChannelRead(data)
    }
}

/// Ends the head deadline at the decoded head, holds the body to its own deadline, and waits for the next request
/// once the response ended.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let deadlines: ConnectionDeadlines
    private let phase = ConnectionPhase()

    init(deadlines: ConnectionDeadlines) {
        self.deadlines = deadlines
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let firstByte = FirstByteHandler(phase: phase, headTimeout: deadlines.head)
        try? context.pipeline.syncOperations.addHandler(firstByte, position: .first)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        phase.stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase.stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            phase.phase = .readingBody
            phase.arm(deadlines.body, on: context)
        case .body:
            break
        case .end:
            phase.phase = .answering
            phase.disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), phase.phase == .answering {
            phase.phase = .waiting
        }
        context.write(data, promise: promise)
    }
}
