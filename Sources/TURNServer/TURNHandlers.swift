import ConnectionGuards
import NIOCore
import STUNProtocol
import TURNCore

/// A TCP or TLS client connection, after `STUNStreamFrameDecoder`.
final class TURNStreamHandler: ChannelInboundHandler {
    typealias InboundIn = STUNStreamFrame

    private let context: TURNLoopContext
    private var fiveTuple: FiveTuple?
    private let transport: TURNTransport
    private let guardian: ConnectionGuard?
    /// Whether a complete message arrived since the last deadline check (a flag, not a clock read per frame:
    /// this is the relay path). The first check is the handshake deadline.
    private var receivedSinceCheck = false
    private var handshakeDone = false
    private var deadline: Scheduled<Void>?

    init(context: TURNLoopContext, transport: TURNTransport, guard guardian: ConnectionGuard?) {
        self.context = context
        self.transport = transport
        self.guardian = guardian
    }

    func channelActive(context channelContext: ChannelHandlerContext) {
        guard let remote = channelContext.remoteAddress.flatMap(TransportAddress.init),
            let local = channelContext.localAddress.flatMap(TransportAddress.init)
        else {
            channelContext.close(promise: nil)
            return
        }
        let fiveTuple = FiveTuple(
            client: TransportAddress(ip: remote.ip.unmapped, port: remote.port),
            server: TransportAddress(ip: local.ip.unmapped, port: local.port), transport: transport)
        self.fiveTuple = fiveTuple
        context.streamClients[fiveTuple] = channelContext.channel
        if let guardian { scheduleCheck(at: .now() + .init(guardian.settings.handshakeTimeout), channelContext) }
        channelContext.fireChannelActive()
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        guard let fiveTuple else { return }
        receivedSinceCheck = true
        switch unwrapInboundIn(data) {
        case .stun(let message):
            context.stunReceived(message, from: fiveTuple)
        case .channelData(let channel, let payload):
            context.channelDataReceived(channel: channel, payload: payload, from: fiveTuple)
        }
    }

    func channelInactive(context channelContext: ChannelHandlerContext) {
        deadline?.cancel()
        if let fiveTuple { context.streamClosed(fiveTuple) }
        channelContext.fireChannelInactive()
    }

    func errorCaught(context channelContext: ChannelHandlerContext, error: any Error) {
        // Framing errors (bytes that are neither STUN nor ChannelData) and TLS failures end this connection only.
        context.logger.debug(
            "turn.stream.closed-on-error", metadata: ["turn.five-tuple": "\(fiveTuple.map { "\($0)" } ?? "?")", "error": "\(error)"])
        channelContext.close(promise: nil)
    }

    /// The connection must complete its TLS handshake and first message within the handshake timeout, and, while
    /// it holds no allocation, send a complete message in every idle period (so an idle one goes within one to two
    /// idle timeouts). RFC 8656 leaves a TCP connection's life to its allocation; one without any only costs a
    /// descriptor.
    private func scheduleCheck(at when: NIODeadline, _ channelContext: ChannelHandlerContext) {
        deadline = channelContext.eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in
            guard let guardian, let fiveTuple, channelContext.channel.isActive else { return }
            let listener: GuardedListener = transport == .tls ? .turnTLS : .turnTCP
            let active = receivedSinceCheck || context.core.hasAllocation(for: fiveTuple)
            receivedSinceCheck = false
            guard active else {
                guardian.count(handshakeDone ? .idleTimeout : .handshakeTimeout, on: listener)
                channelContext.close(promise: nil)
                return
            }
            handshakeDone = true
            scheduleCheck(at: .now() + TimeAmount(guardian.settings.turnIdleTimeout), channelContext)
        }
    }
}

/// A relay socket: every datagram from a peer goes through the core's permission check to the client.
final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let context: TURNLoopContext
    private let allocation: AllocationID

    init(context: TURNLoopContext, allocation: AllocationID) {
        self.context = context
        self.allocation = allocation
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        context.peerDataReceived(unwrapInboundIn(data), on: allocation)
    }

    func errorCaught(context channelContext: ChannelHandlerContext, error: any Error) {
        // An ICMP port unreachable from a peer must not close the relay.
        context.logger.trace("turn.relay.error", metadata: ["turn.allocation": "\(allocation)", "error": "\(error)"])
    }
}
