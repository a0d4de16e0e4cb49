import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of every Switchboard route: WebSocket upgrade support and the peer address.
public struct SignalingRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The TCP peer, used for per-address limits and logs.
    public let remoteAddress: SocketAddress?
    /// The address the client connected to, for answers that name this server when no Host header does.
    public let localAddress: SocketAddress?
    /// The connection's channel, so the WebSocket route can observe close frames.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
        localAddress = source.channel.localAddress
        channel = source.channel
    }
}
