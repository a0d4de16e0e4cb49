import NIOCore
import NIOPosix
import Synchronization

/// A loopback TCP proxy that can sever every connection at once without any protocol goodbye,
/// which is what a network blip looks like to both ends.
public final class TCPProxy: Sendable {
    private let serverChannel: any Channel
    private let live: ChannelRegistry

    /// The port the proxy listens on (127.0.0.1).
    public let port: Int

    /// Starts forwarding 127.0.0.1:(ephemeral) to 127.0.0.1:`targetPort`.
    public static func start(targetPort: Int) async throws -> TCPProxy {
        let live = ChannelRegistry()
        let group = MultiThreadedEventLoopGroup.singleton
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { outbound in
                        live.add(inbound)
                        live.add(outbound)
                        inbound.closeFuture.whenComplete { _ in
                            live.remove(inbound); outbound.close(promise: nil)
                        }
                        outbound.closeFuture.whenComplete { _ in
                            live.remove(outbound); inbound.close(promise: nil)
                        }
                        return inbound.pipeline.addHandler(Glue(peer: outbound))
                            .flatMap { outbound.pipeline.addHandler(Glue(peer: inbound)) }
                            .map { inbound.read() }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TCPProxy(serverChannel: channel, live: live)
    }

    private init(serverChannel: any Channel, live: ChannelRegistry) {
        self.serverChannel = serverChannel
        self.live = live
        self.port = serverChannel.localAddress?.port ?? 0
    }

    /// Closes every proxied connection (both sides) abruptly; new connections are still accepted.
    public func severAll() async {
        for channel in live.all() {
            // SO_LINGER 0 turns close into a reset: no FIN handshake, no WebSocket close frame.
            if let provider = channel as? any SocketOptionProvider {
                try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            }
            try? await channel.close().get()
        }
    }

    /// Stops listening and closes everything.
    public func stop() async {
        await severAll()
        try? await serverChannel.close().get()
    }
}

/// The proxy's open channels, shared with the channels' close callbacks.
private final class ChannelRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: any Channel) {
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func all() -> [any Channel] {
        channels.withLock { Array($0.values) }
    }
}

/// Forwards bytes to the peer channel, reading more only when the peer can take them.
private final class Glue: ChannelDuplexHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    let peer: any Channel

    init(peer: any Channel) {
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let channel = context.channel
        peer.eventLoop.execute {
            channel.read()
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.read()
        context.fireChannelActive()
    }
}
