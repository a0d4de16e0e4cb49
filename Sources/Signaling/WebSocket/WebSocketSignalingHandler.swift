import Logging
import NIOCore
import NIOWebSocket
import SignalingCore

/// Serves the native protocol on an upgraded connection's event loop.
///
/// It takes the client's data frames before the WebSocket layer's async stream does, decodes them and hands the
/// requests to the hub; the hub's frames come back through ``write(_:)``. Control frames pass on to the
/// WebSocket layer, which answers pings, pings the client and runs the close handshake.
///
/// It also keeps the connection alive: a ping every heartbeat interval, and a close when the previous one went
/// unanswered (the WebSocket layer's own pinger would cost a task per connection).
///
/// Two things wait on the connection's task instead, told through command frames (see ``WebSocketConnection``):
/// a join, whose gate may wait on a database, and a close. Reading pauses until the task is done with a join,
/// and at first until it has handled the frames that arrived before this handler was in place, so requests
/// reach the hub in the order they were sent.
final class WebSocketSignalingHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: SignalingHub
    private let traffic: SignalingTraffic
    private let logger: Logger
    private let sendLimit: Int
    private let heartbeat: TimeAmount
    private var heartbeatTimer: Scheduled<Void>?
    /// The payload of the ping not answered yet.
    private var awaitedPong: ByteBuffer?
    private var assembler: WebSocketMessageAssembler
    /// Set once when the handler is added; requests go to the hub under it.
    var connectionID = ConnectionID(0)
    /// Gives command frames their prefix; set once, right after the handler is made.
    var connection: WebSocketConnection?
    private var context: ChannelHandlerContext?
    /// Frames the hub wrote before the handler was in the pipeline.
    private var unsent: [ByteBuffer] = []
    /// Reading waits for the task: at first, and while it runs a join.
    private var paused = true
    /// Requests that arrived while paused, in order.
    private var held: [WebSocketMessageAssembler.Outcome] = []
    private var readPending = false
    /// A message broke a fatal limit, or the connection is closing: no more data frames are read.
    private var stoppedReading = false
    /// The task was told to close: nothing more is written (its close frame is the last).
    private var closeSent = false
    /// A close the hub asked for before the handler was in the pipeline.
    private var pendingClose: SignalingError??
    /// Messages written since the channel last had nothing buffered: the slow-consumer bound.
    private var writtenSinceDrained = 0

    init(hub: SignalingHub, maxMessageBytes: Int, heartbeat: Duration, logger: Logger) {
        self.hub = hub
        self.heartbeat = TimeAmount(heartbeat)
        self.traffic = hub.traffic
        self.sendLimit = hub.sendLimit
        self.logger = logger
        self.assembler = WebSocketMessageAssembler(maxMessageBytes: maxMessageBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        for frame in unsent { write(frame) }
        unsent = []
        send(.installed, context: context)
        if let pendingClose { close(pendingClose) }
        scheduleHeartbeat(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        heartbeatTimer?.cancel()
    }

    // MARK: Heartbeat

    private func scheduleHeartbeat(context: ChannelHandlerContext) {
        heartbeatTimer = context.eventLoop.assumeIsolated().scheduleTask(in: heartbeat) { [self] in
            guard let context = self.context else { return }
            self.beat(context: context)
        }
    }

    private func beat(context: ChannelHandlerContext) {
        guard awaitedPong == nil else {
            // The last ping went unanswered for a whole interval: the connection is lost (the session waits for a resume).
            var data = context.channel.allocator.buffer(capacity: 16)
            data.writeInteger(UInt16(webSocketErrorCode: .goingAway))
            data.writeString("Ping timeout")
            closeSent = true
            stoppedReading = true
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
            context.close(promise: nil)
            return
        }
        var payload = context.channel.allocator.buffer(capacity: 8)
        payload.writeInteger(UInt64.random(in: .min ... .max))
        awaitedPong = payload
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: payload)), promise: nil)
        scheduleHeartbeat(context: context)
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let startsMessage: Bool
        switch frame.opcode {
        case .text, .binary: startsMessage = true
        case .continuation: startsMessage = false
        case .pong:
            if frame.unmaskedData == awaitedPong { awaitedPong = nil }
            return
        default:
            context.fireChannelRead(data)
            return
        }
        guard !stoppedReading else { return }
        traffic.received(frame.length)
        let outcome = assembler.append(
            frame.unmaskedData, startsMessage: startsMessage, isText: frame.opcode == .text, fin: frame.fin)
        if case .incomplete = outcome { return }
        if case .rejected(_, fatal: true) = outcome { stoppedReading = true }
        if paused {
            held.append(outcome)
        } else {
            dispatch(outcome, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    private func dispatch(_ outcome: WebSocketMessageAssembler.Outcome, context: ChannelHandlerContext) {
        switch outcome {
        case .incomplete:
            return
        case .request(let request):
            if case .join = request.message {
                // The gate may wait on a database: the task runs the join, and reading waits for it.
                paused = true
                send(.join(Self.encoded(request, allocator: context.channel.allocator)), context: context)
            } else {
                hub.submit(request, on: connectionID)
            }
        case .rejected(let error, _):
            logger.debug("rejected request", metadata: ["sig.code": "\(error.code.rawValue)"])
            hub.submitRejected(error, on: connectionID)
        }
    }

    /// A join as a frame for the task, which decodes it again (joins are rare; the rest is not re-read).
    private static func encoded(_ request: ClientRequest, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard case .join(let join) = request.message else { return allocator.buffer(capacity: 0) }
        var fields: [String: JSONValue] = ["type": "join", "room": .string(join.room.rawValue)]
        if let id = request.id { fields["id"] = id }
        if let name = join.name { fields["name"] = .string(name) }
        if let password = join.password { fields["password"] = .string(password) }
        if let capacity = join.capacity { fields["capacity"] = .integer(Int64(capacity)) }
        if let token = join.token { fields["token"] = .string(token) }
        return allocator.buffer(string: JSONValue.object(fields).serialized)
    }

    /// The task handled what it was asked: hand on what waited, and read again.
    func resume() {
        guard let context, paused else { return }
        paused = false
        while !paused, !held.isEmpty {
            let outcome = held.removeFirst()
            dispatch(outcome, context: context)
        }
        if !paused, readPending {
            readPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Writing

    /// Writes one text frame from the hub.
    func write(_ text: ByteBuffer) {
        guard let context else {
            unsent.append(text)
            return
        }
        guard !closeSent else { return }
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: text)), promise: nil)
        let buffered = (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
        writtenSinceDrained = buffered == 0 ? 0 : writtenSinceDrained + 1
        if writtenSinceDrained > sendLimit { dropSlowConsumer(context: context) }
    }

    private func dropSlowConsumer(context: ChannelHandlerContext) {
        logger.notice(
            "closing slow consumer",
            metadata: [
                "sig.connection": "\(connectionID)", "sig.code": "\(SignalingErrorCode.slowConsumer.rawValue)", "sig.limit": "\(sendLimit)",
            ])
        connection?.droppedAsSlowConsumer()
        let error = SignalingError(.slowConsumer, "messages were not read fast enough")
        let text = context.channel.allocator.buffer(string: OutboundMessage(seq: nil, message: .error(error)).json)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: text)), promise: nil)
        sendClose(.policyViolation, reason: error.code.rawValue, context: context)
    }

    /// Closes after what was written, with the error's code when it is fatal.
    func close(_ error: SignalingError?) {
        guard let context else {
            // Not in the pipeline yet: close once it is, after the frames written so far.
            pendingClose = .some(error)
            return
        }
        if let error, error.code.isFatal {
            sendClose(.policyViolation, reason: error.code.rawValue, context: context)
        } else {
            sendClose(.normalClosure, reason: nil, context: context)
        }
    }

    private func sendClose(_ code: WebSocketErrorCode, reason: String?, context: ChannelHandlerContext) {
        guard !closeSent else { return }
        closeSent = true
        stoppedReading = true
        send(.close(code, reason: reason), context: context)
    }

    private func send(_ command: WebSocketConnection.Command, context: ChannelHandlerContext) {
        guard let connection else { return }
        context.fireChannelRead(wrapInboundOut(connection.frame(for: command)))
        context.fireChannelReadComplete()
    }
}
