import Logging
import NIOCore
import NIOWebSocket
import SignalingCore

/// Serves the native protocol on an upgraded connection's event loop, with no task of its own.
///
/// It reads the client's frames, decodes requests and hands them to the hub; the hub's frames come back through
/// ``write(_:)``. It answers pings, pings the client every heartbeat interval (closing the connection when the
/// previous ping went unanswered) and runs the close handshake. A join, whose gate may wait on a database, runs
/// as a job of the hub's ``SignalingEdgeWork``; reading pauses until it is decided, and at first until the hub
/// has opened the connection, so requests reach the hub in the order they were sent.
final class WebSocketSignalingHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: SignalingHub
    private let traffic: SignalingTraffic
    private let logger: Logger
    private let heartbeat: TimeAmount
    private var assembler: WebSocketMessageAssembler
    /// The WebSocket layer's view of the channel, kept unread: its handler at the pipeline's tail lets reads through
    /// while its stream exists (it would stop them for good, and half-close the output, once the stream was gone).
    private var upgraded: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>?
    private var context: ChannelHandlerContext?
    /// Set once the hub has opened the connection.
    private var connection: ConnectionID?
    /// Reading waits: until the hub has opened the connection, and while a join is decided.
    private var paused = true
    /// Requests that arrived while paused, in order.
    private var held: [WebSocketMessageAssembler.Outcome] = []
    private var readPending = false
    /// How the client ended while requests were held: handled after them.
    private var heldEnd: HeldEnd?
    private let closing: WebSocketClosing
    private var closedByRequest = false
    private var droppedAsSlow = false
    private var isActive = true
    private var heartbeatTimer: Scheduled<Void>?
    /// The payload of the ping not answered yet.
    private var awaitedPong: ByteBuffer?
    private var slowConsumerBound: SlowConsumerBound

    init(
        hub: SignalingHub, upgraded: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, maxMessageBytes: Int, heartbeat: Duration,
        closeTimeout: Duration, logger: Logger
    ) {
        self.hub = hub
        self.upgraded = upgraded
        self.traffic = hub.traffic
        self.slowConsumerBound = SlowConsumerBound(limit: hub.sendLimit)
        self.heartbeat = TimeAmount(heartbeat)
        self.closing = WebSocketClosing(closeTimeout: closeTimeout)
        self.logger = logger
        self.assembler = WebSocketMessageAssembler(maxMessageBytes: maxMessageBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        scheduleHeartbeat(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        heartbeatTimer?.cancel()
        upgraded = nil
    }

    /// The hub opened the connection: requests can go to it.
    func opened(_ id: ConnectionID) {
        connection = id
        logger.debug("websocket connected", metadata: ["sig.connection": "\(id)"])
        guard isActive else {
            ended()
            return
        }
        resume()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        heartbeatTimer?.cancel()
        if connection != nil { ended() }
        context.fireChannelInactive()
    }

    /// A client's close frame, or a request that broke a limit, ends the session now; missed pings, a dropped TCP
    /// connection or a slow consumer leave it to the grace period, so the client can resume.
    private func ended() {
        guard let connection else { return }
        hub.submitEnded(connection, clean: !droppedAsSlow && (closedByRequest || closing.closeReceived))
        logger.debug("websocket disconnected", metadata: ["sig.connection": "\(connection)"])
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server allows half-closure: a client's FIN arrives as an event, not a close. Its session is not
        // kept waiting for two heartbeats to notice, but what it sent before the FIN is handled first.
        if let event = event as? ChannelEvent, event == .inputClosed {
            if paused {
                if heldEnd == nil { heldEnd = .inputClosed }
                closing.stoppedReading = true
            } else {
                context.close(promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closing.caught(error)
        logger.debug("websocket failed", metadata: ["error": "\(error)"])
        context.fireErrorCaught(error)
    }

    /// How a client ended its side: with a close frame, or with a FIN.
    private enum HeldEnd {
        case closeFrame(WebSocketFrame)
        case inputClosed
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let startsMessage: Bool
        switch frame.opcode {
        case .text, .binary: startsMessage = true
        case .continuation: startsMessage = false
        case .ping:
            closing.answer(ping: frame, context: context)
            return
        case .pong:
            if frame.unmaskedData == awaitedPong { awaitedPong = nil }
            return
        case .connectionClose:
            if paused {
                // After the requests held before it: a join, a message, then close loses nothing.
                if heldEnd == nil { heldEnd = .closeFrame(frame) }
                closing.stoppedReading = true
            } else {
                receivedClose(frame, context: context)
            }
            return
        default:
            sendClose(.protocolError, reason: nil, context: context)
            return
        }
        guard !closing.stoppedReading else { return }
        traffic.received(frame.length)
        let outcome = assembler.append(
            frame.unmaskedData, startsMessage: startsMessage, isText: frame.opcode == .text, fin: frame.fin)
        if case .incomplete = outcome { return }
        if case .rejected(_, fatal: true) = outcome { closing.stoppedReading = true }
        if paused {
            held.append(outcome)
        } else {
            dispatch(outcome)
        }
    }

    private func dispatch(_ outcome: WebSocketMessageAssembler.Outcome) {
        guard let connection else { return }
        switch outcome {
        case .incomplete:
            return
        case .request(let request):
            guard case .join = request.message else {
                hub.submit(request, on: connection)
                return
            }
            // The gate may wait on a database: the join runs as a job, and reading waits for its decision.
            guard let eventLoop = context?.eventLoop else { return }
            let handler = NIOLoopBound(self, eventLoop: eventLoop)
            let hub = self.hub
            let submitted = hub.edgeWork.submit {
                _ = await hub.received(request, on: connection)
                eventLoop.execute { handler.value.resume() }
            }
            if submitted {
                paused = true
            } else {
                hub.submitRejected(
                    SignalingError(
                        .serverDraining, "this server is shutting down; join through another node", requestType: request.message.type,
                        requestID: request.id), on: connection)
            }
        case .rejected(let error, _):
            logger.debug("rejected request", metadata: ["sig.code": "\(error.code.rawValue)"])
            hub.submitRejected(error, on: connection)
        }
    }

    /// What made reading wait is done: hand on what waited, and read again.
    func resume() {
        guard let context else { return }
        paused = false
        while !paused, !held.isEmpty {
            dispatch(held.removeFirst())
        }
        if !paused, let end = heldEnd {
            heldEnd = nil
            switch end {
            case .closeFrame(let frame): receivedClose(frame, context: context)
            case .inputClosed: context.close(promise: nil)
            }
            return
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

    /// Writes one message from the hub as a text frame. A frame that `counts` toward the slow-consumer bound is one of the
    /// messages written since the socket last took everything; a resume's replay does not count (the history's
    /// own bounds limit it).
    func write(_ message: OutboundMessage, counts: Bool = true) {
        guard let context, !closing.closeSent else { return }
        let text = context.channel.allocator.buffer(string: message.json)
        traffic.sent(text.readableBytes)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: text)), promise: nil)
        if slowConsumerBound.wrote(1, counts: counts, on: context.channel) { dropSlowConsumer(context: context) }
    }

    private func dropSlowConsumer(context: ChannelHandlerContext) {
        logger.notice(
            "closing slow consumer",
            metadata: [
                "sig.connection": "\(connection.map { "\($0)" } ?? "-")", "sig.code": "\(SignalingErrorCode.slowConsumer.rawValue)",
                "sig.limit": "\(slowConsumerBound.limit)",
            ])
        droppedAsSlow = true
        let error = SignalingError(.slowConsumer, "messages were not read fast enough")
        let text = context.channel.allocator.buffer(string: OutboundMessage(seq: nil, message: .error(error)).json)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: text)), promise: nil)
        sendClose(.policyViolation, reason: error.code.rawValue, context: context)
    }

    /// The hub closed the connection because of one of its requests (it broke a limit).
    func closedByOwnRequest() {
        closedByRequest = true
    }

    // MARK: Closing

    /// Closes after what was written, with the error's code when it is fatal.
    func close(_ error: SignalingError?) {
        guard let context else { return }
        if let error, error.code.isFatal {
            sendClose(.policyViolation, reason: error.code.rawValue, context: context)
        } else {
            sendClose(.normalClosure, reason: nil, context: context)
        }
    }

    private func sendClose(_ code: WebSocketErrorCode, reason: String?, context: ChannelHandlerContext) {
        closing.sendClose(code, reason: reason, context: context)
    }

    private func receivedClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        closing.received(close: frame, context: context)
    }

    // MARK: Heartbeat

    private func scheduleHeartbeat(context: ChannelHandlerContext) {
        heartbeatTimer = context.eventLoop.assumeIsolated().scheduleTask(in: heartbeat) { [self] in
            guard let context = self.context else { return }
            self.beat(context: context)
        }
    }

    private func beat(context: ChannelHandlerContext) {
        guard !closing.closeSent else { return }
        if paused, awaitedPong != nil {
            // Reading waits for a join: the pong may be unread behind it. Check again next interval.
            scheduleHeartbeat(context: context)
            return
        }
        guard awaitedPong == nil else {
            // The last ping went unanswered for a whole interval: the connection is lost (the session waits for a resume).
            let frame = WebSocketClosing.close(.goingAway, reason: "Ping timeout", allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            closing.stopAll()
            context.close(promise: nil)
            return
        }
        var payload = context.channel.allocator.buffer(capacity: 8)
        payload.writeInteger(UInt64.random(in: .min ... .max))
        awaitedPong = payload
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: payload)), promise: nil)
        scheduleHeartbeat(context: context)
    }
}
