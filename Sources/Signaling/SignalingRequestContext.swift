import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Synchronization

/// The request context of every Switchboard route: WebSocket upgrade support and the peer address.
public struct SignalingRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Where the router puts the upgrade handler. hummingbird-websocket stores the handler together with a copy of
    /// this context inside the reference, a cycle that kept every upgraded connection's channel alive (about 5 KB
    /// per WebSocket, never returned): the slot lets the route drop the reference once the upgrade has happened.
    private let upgrade: WebSocketUpgradeSlot
    public var webSocket: WebSocketHandlerReference<Self> { upgrade.reference }
    /// The TCP peer, used for per-address limits and logs.
    public let remoteAddress: SocketAddress?
    /// The address the client connected to, for answers that name this server when no Host header does.
    public let localAddress: SocketAddress?
    /// The connection's channel, so the WebSocket route can observe close frames.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        upgrade = WebSocketUpgradeSlot()
        remoteAddress = source.channel.remoteAddress
        localAddress = source.channel.localAddress
        channel = source.channel
    }

    /// The connection was upgraded and its handler runs: forget the upgrade reference (see ``webSocket``).
    func upgradeCompleted() {
        upgrade.release()
    }
}

/// Holds a context's WebSocket upgrade reference until the upgrade has happened.
final class WebSocketUpgradeSlot: Sendable {
    private let stored = Mutex<WebSocketHandlerReference<SignalingRequestContext>?>(.init())

    /// The reference; a fresh, empty one once released (nothing reads it after the upgrade).
    var reference: WebSocketHandlerReference<SignalingRequestContext> {
        stored.withLock { $0 } ?? .init()
    }

    func release() {
        stored.withLock { $0 = nil }
    }
}
