import NIOCore
import STUNProtocol
import TURNCore

/// A TCP or TLS client connection, after `STUNStreamFrameDecoder`.
final class TURNStreamHandler: ChannelInboundHandler {
    typealias InboundIn = STUNStreamFrame

    private let context: TURNLoopContext
    private var fiveTuple: FiveTuple?
    private let transport: TURNTransport

    init(context: TURNLoopContext, transport: TURNTransport) {
        self.context = context
        self.transport = transport
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
        channelContext.fireChannelActive()
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        guard let fiveTuple else { return }
        switch unwrapInboundIn(data) {
        case .stun(let message):
            context.stunReceived(message, from: fiveTuple)
        case .channelData(let channel, let payload):
            context.channelDataReceived(channel: channel, payload: payload, from: fiveTuple)
        }
    }

    func channelInactive(context channelContext: ChannelHandlerContext) {
        if let fiveTuple { context.streamClosed(fiveTuple) }
        channelContext.fireChannelInactive()
    }

    func errorCaught(context channelContext: ChannelHandlerContext, error: any Error) {
        // Framing errors (bytes that are neither STUN nor ChannelData) and TLS failures end this connection only.
        context.logger.debug(
            "turn.stream.closed-on-error", metadata: ["turn.five-tuple": "\(fiveTuple.map { "\($0)" } ?? "?")", "error": "\(error)"])
        channelContext.close(promise: nil)
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
