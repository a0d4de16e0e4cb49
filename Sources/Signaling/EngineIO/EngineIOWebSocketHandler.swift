import Logging
import NIOCore
import NIOWebSocket
import SocketIOProtocol

/// Serves Engine.IO's WebSocket transport on an upgraded connection's event loop, with no task of its own.
///
/// It reads the client's frames and parses Engine.IO packets; the session is an actor whose application may wait
/// on the hub, so packets reach it as jobs of the ``SignalingEdgeWork``, one at a time: reading pauses while a job
/// runs, which keeps the packets in order and leaves a backlog in the socket rather than in memory. The session's
/// packets come back through the connection's ``EngineIOWebSocketSink``. The handler answers WebSocket pings and runs
/// the close handshake; liveness is Engine.IO's own heartbeat.
final class EngineIOWebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Where the connection stands with its session.
    private enum Phase {
        /// Waiting for the session: being opened (a new session) or checked (an upgrade).
        case starting
        /// Upgrading a polling session; `probed` once `2probe` was answered (the session is then upgrading).
        case upgrading(probed: Bool)
        /// The session's transport.
        case attached
    }

    /// What a job reports back to the event loop.
    private enum JobOutcome: Sendable {
        /// A new session is open and this connection is its transport.
        case opened(EngineIOSession)
        /// The polling session to upgrade, or `nil` when it cannot be.
        case upgradable(EngineIOSession?)
        /// Whether the session began upgrading.
        case probed(Bool)
        /// The upgrade completed.
        case attached
        /// Packets were handled; `false` when one ended the session.
        case received(Bool)
        /// The upgrade was given up: the connection closes.
        case abandoned
        /// The session was told how the connection ended.
        case ended
    }

    private let server: EngineIOServer
    private let work: SignalingEdgeWork
    private let traffic: SignalingTraffic?
    private let logger: Logger
    private let eventLoop: any EventLoop
    /// The WebSocket layer's view of the channel, kept unread: its handler at the pipeline's tail lets reads through
    /// while its stream exists.
    private var upgraded: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>?
    private var context: ChannelHandlerContext?
    private var sink: EngineIOWebSocketSink?
    private var session: EngineIOSession?
    private var phase = Phase.starting
    /// A job runs (at first, the one that finds the session): packets wait in `held` and reading waits.
    private var paused = true
    private var held: [EngineIOPacket] = []
    private var readPending = false
    /// The data frames of a fragmented message so far, and whether it is text.
    private var fragments: ByteBuffer?
    private var fragmentsAreText = false
    /// Why the server stopped reading (a bad message), when it did.
    private var failure: String?
    private let closing: WebSocketClosing
    /// The connection is gone and the session is told once the running job is done.
    private var endPending = false

    init(
        server: EngineIOServer, work: SignalingEdgeWork, upgraded: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>,
        traffic: SignalingTraffic?, closeTimeout: Duration, logger: Logger
    ) {
        self.server = server
        self.work = work
        self.upgraded = upgraded
        self.traffic = traffic
        self.closing = WebSocketClosing(closeTimeout: closeTimeout)
        self.logger = logger
        self.eventLoop = upgraded.channel.eventLoop
    }

    /// Finds the session (opens one, or checks the one `sid` names for an upgrade), then reads; on the event loop.
    func start(sid: String?, remoteAddress: String?, sink: EngineIOWebSocketSink) {
        self.sink = sink
        let server = server
        if let sid {
            submit {
                guard let existing = server.session(sid), await existing.canUpgrade else { return .upgradable(nil) }
                return .upgradable(existing)
            }
        } else {
            let eventLoop = eventLoop
            submit {
                let session = await server.open(
                    transport: .webSocket, remoteAddress: remoteAddress, eventLoop: eventLoop, webSocket: sink)
                sink.write([await session.handshake.packet])
                await session.attach(webSocket: sink)
                return .opened(session)
            }
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        upgraded = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        endPending = true
        if !paused { resume() }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A client's FIN (the server allows half-closure): what it sent before is still handed on, then the session ends.
        if let event = event as? ChannelEvent, event == .inputClosed {
            closing.stoppedReading = true
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closing.caught(error)
        logger.debug("engine.io websocket failed", metadata: ["error": "\(error)"])
        context.fireErrorCaught(error)
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            break
        case .ping:
            closing.answer(ping: frame, context: context)
            return
        case .pong:
            return
        case .connectionClose:
            closing.received(close: frame, context: context)
            return
        default:
            fail("transport error", code: .protocolError, context: context)
            return
        }
        guard !closing.stoppedReading else { return }
        traffic?.received(frame.length)
        guard let message = assemble(frame, context: context) else { return }
        let packet: EngineIOPacket
        if fragmentsAreText {
            guard let parsed = try? EngineIOPacket(parsing: Substring(String(buffer: message)), allowBase64: false) else {
                fail("parse error", code: .normalClosure, context: context)
                return
            }
            packet = parsed
        } else {
            packet = EngineIOPacket(binaryFrame: Array(message.readableBytesView))
        }
        // A message the application takes at once needs no job, when nothing is ahead of it.
        if !paused, held.isEmpty, case .attached = phase, let session, packet.type == .message,
            server.receivedWithoutWaiting(packet.payload, on: session)
        {
            return
        }
        held.append(packet)
        if !paused { resume() }
    }

    /// Adds a data frame to the message it belongs to; the whole message once its last frame came.
    private func assemble(_ frame: WebSocketFrame, context: ChannelHandlerContext) -> ByteBuffer? {
        var message: ByteBuffer
        if frame.opcode == .continuation {
            guard let started = fragments else {
                fail("transport error", code: .protocolError, context: context)
                return nil
            }
            message = started
            message.writeImmutableBuffer(frame.unmaskedData)
        } else {
            guard fragments == nil else {
                fail("transport error", code: .protocolError, context: context)
                return nil
            }
            fragmentsAreText = frame.opcode == .text
            message = frame.unmaskedData
        }
        guard message.readableBytes <= server.configuration.maxPayload else {
            fail("transport error", code: .messageTooLarge, context: context)
            return nil
        }
        guard frame.fin else {
            fragments = message
            return nil
        }
        fragments = nil
        return message
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Jobs

    /// Runs `job` off the event loop with reading paused; its outcome comes back to ``finished(_:)``.
    private func submit(_ job: @escaping @Sendable () async -> JobOutcome) {
        paused = true
        let eventLoop = eventLoop
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let submitted = work.submit {
            let outcome = await job()
            eventLoop.execute { handler.value.finished(outcome) }
        }
        if !submitted {
            // The server is shutting down and takes no more work: the connection closes.
            paused = false
            held.removeAll()
            endPending = false
            context?.close(promise: nil)
        }
    }

    private func finished(_ outcome: JobOutcome) {
        switch outcome {
        case .opened(let session):
            self.session = session
            phase = .attached
        case .upgradable(let session):
            guard let session else {
                held.removeAll()
                closeFromServer()
                break
            }
            self.session = session
            phase = .upgrading(probed: false)
        case .probed(let began):
            guard began else {
                held.removeAll()
                closeFromServer()
                break
            }
            phase = .upgrading(probed: true)
            sink?.write([EngineIOPacket(.pong, "probe")])
        case .attached:
            phase = .attached
        case .received(let accepted):
            // The session ended itself (and started the close handshake through the sink).
            if !accepted { held.removeAll() }
        case .abandoned:
            held.removeAll()
            closeFromServer()
        case .ended:
            return
        }
        resume()
    }

    /// No job runs: hand on what waits, tell the session the connection ended, or read again.
    private func resume() {
        paused = false
        if !held.isEmpty, let session {
            dispatch(session)
        } else if endPending {
            endPending = false
            reportEnd()
        } else if readPending, let context {
            readPending = false
            context.read()
        }
    }

    private func dispatch(_ session: EngineIOSession) {
        switch phase {
        case .starting:
            return
        case .attached:
            let packets = held
            held.removeAll()
            submit { .received(await session.receive(packets)) }
        case .upgrading(let probed):
            // The upgrade handshake: 2probe → 3probe (the pending GET gets a noop), then 5.
            let packet = held.removeFirst()
            if !probed, packet == EngineIOPacket(.ping, "probe") {
                submit { .probed(await session.beginUpgrade()) }
            } else if probed, packet.type == .upgrade {
                let sink = sink!
                submit {
                    await session.attach(webSocket: sink)
                    return .attached
                }
            } else {
                submit {
                    if probed { await session.abandonUpgrade() }
                    return .abandoned
                }
            }
        }
    }

    /// Tells the session how its connection ended: a client's close frame is the client leaving on purpose, anything
    /// else a lost transport (the session's grace period applies).
    private func reportEnd() {
        guard let session else { return }
        switch phase {
        case .starting:
            return
        case .upgrading(let probed):
            // A connection that never finished upgrading leaves the session polling.
            guard probed else { return }
            submit {
                await session.abandonUpgrade()
                return .ended
            }
        case .attached:
            let reason =
                failure ?? (sink?.overflowed == true ? "slow consumer" : closing.closeReceived ? "client close" : "transport close")
            submit {
                await session.transportFailed(reason)
                return .ended
            }
        }
    }

    // MARK: Writing and closing

    /// Sent down the pipeline by the connection's sink once its session ended: after what was written before it,
    /// the server starts the close handshake. (An event rather than a reference to the handler, so the sink, which the
    /// session holds, keeps no handler alive.)
    struct CloseRequest: Sendable {}

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is CloseRequest else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        closing.sendClose(.normalClosure, context: context)
        promise?.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Nothing follows a close frame.
        guard !closing.closeSent else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        context.write(data, promise: promise)
    }

    /// This connection cannot serve the session: the server starts the close handshake; the client answers with its
    /// close frame, or the connection is closed after the close timeout.
    private func closeFromServer() {
        guard let context else { return }
        closing.sendClose(.normalClosure, context: context)
    }

    /// A message the server cannot take: no more are read, and the connection closes with `code`.
    private func fail(_ reason: String, code: WebSocketErrorCode, context: ChannelHandlerContext) {
        logger.debug("engine.io websocket message refused", metadata: ["eio.reason": "\(reason)"])
        if failure == nil { failure = reason }
        closing.sendClose(code, context: context)
    }
}
