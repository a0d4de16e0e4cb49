import NIOCore
import NIOWebSocket
import Synchronization

/// Watches a WebSocket connection's inbound frames for a close frame from the client.
///
/// The WebSocket layer hides close frames from route handlers, and it ends the inbound stream the same
/// way whether the client closed cleanly or the server gave up on missed pings. Only a client's close
/// frame ends a session at once; every other ending keeps the session for its grace period.
final class CloseFrameObserver: ChannelInboundHandler, Sendable {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    private let sawCloseFrame = Atomic<Bool>(false)

    /// Whether the client sent a close frame.
    var closeFrameReceived: Bool { sawCloseFrame.load(ordering: .acquiring) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if unwrapInboundIn(data).opcode == .connectionClose {
            sawCloseFrame.store(true, ordering: .releasing)
        }
        context.fireChannelRead(data)
    }

    /// Inserts an observer right after the frame decoder of an upgraded connection.
    /// Returns `nil` if the pipeline has no frame decoder (the connection then counts as dropped).
    static func install(on channel: any Channel) async -> CloseFrameObserver? {
        try? await channel.eventLoop.submit {
            let observer = CloseFrameObserver()
            let operations = channel.pipeline.syncOperations
            let decoder = try operations.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            try operations.addHandler(observer, position: .after(decoder))
            return observer
        }.get()
    }
}
