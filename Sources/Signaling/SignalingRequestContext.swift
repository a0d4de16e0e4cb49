import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of every Switchboard route: WebSocket upgrade support and the peer address.
public struct SignalingRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The TCP peer, used for per-address limits and logs.
    public let remoteAddress: SocketAddress?
    /// The connection's channel, so the WebSocket route can observe close frames.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }
}
