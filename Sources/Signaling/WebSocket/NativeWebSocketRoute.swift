import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SignalingCore

/// The native JSON signaling protocol over WebSocket (`GET /ws`), documented in docs/PROTOCOL.md.
///
/// The route accepts the upgrade and then takes the connection over (see ``NativeUpgradeNote``): from then on a
/// ``WebSocketSignalingHandler`` on the connection's event loop reads and decodes frames, hands requests to the
/// hub and writes the hub's messages, with no task per connection.
public struct NativeWebSocketRoute: Sendable {
    let hub: SignalingHub
    let maxMessageBytes: Int
    let heartbeat: Duration
    let closeTimeout: Duration
    let logger: Logger
    let origins: OriginPolicy

    /// Creates the route; messages larger than `maxMessageBytes` are refused with `frame_too_large`, a client that
    /// leaves a ping unanswered for `heartbeat` is disconnected, and one that does not answer a close frame within
    /// `closeTimeout` is too.
    public init(
        hub: SignalingHub, maxMessageBytes: Int, heartbeat: Duration, closeTimeout: Duration = .seconds(5),
        origins: OriginPolicy = .init(), logger: Logger
    ) {
        self.hub = hub
        self.maxMessageBytes = maxMessageBytes
        self.heartbeat = heartbeat
        self.closeTimeout = closeTimeout
        self.origins = origins
        self.logger = logger
    }

    /// Adds `GET path` with WebSocket upgrade to `router`. The server's connections must carry a
    /// ``NativeUpgradeNote``; an upgrade on one without it is refused.
    public func register(on router: Router<SignalingRequestContext>, path: RouterPath = "/ws") {
        router.ws(
            path,
            shouldUpgrade: { request, context in
                try self.origins.check(request, logger: self.logger)
                let channel = context.channel
                guard let note = try? await channel.pipeline.handler(type: NativeUpgradeNote.self).get() else {
                    self.logger.error("websocket upgrade refused: the connection cannot be handed to the signaling route")
                    return .dontUpgrade
                }
                let address = ClientAddress(context.remoteAddress?.ipAddress ?? "unknown")
                // A join token may come with the upgrade (`/ws?token=…`), for browsers that cannot set headers.
                let token: String? = request.uri.queryParameters.get("token")
                // Once the upgrade has happened or failed, the router's reference to it is dropped (see
                // SignalingRequestContext.webSocket): it would keep the connection's channel alive.
                note.accept(release: { context.upgradeCompleted() }) { upgraded in
                    try self.adopt(upgraded, address: address, token: token)
                }
                return .upgrade([:])
            }
        ) { _, _, context in
            // Not reached: the note hands every accepted upgrade to `adopt` instead.
            context.requestContext.upgradeCompleted()
        }
    }

    /// Puts the signaling handler on an upgraded connection and opens it with the hub; on its event loop, before
    /// any frame is read.
    private func adopt(_ upgraded: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, address: ClientAddress, token: String?) throws {
        let channel = upgraded.channel
        let operations = channel.pipeline.syncOperations
        var logger = self.logger
        logger[metadataKey: "sig.peer"] = "\(address)"
        let handler = WebSocketSignalingHandler(
            hub: hub, upgraded: upgraded, maxMessageBytes: maxMessageBytes, heartbeat: heartbeat, closeTimeout: closeTimeout,
            logger: logger)
        let decoder = try operations.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
        try operations.addHandler(handler, position: .after(decoder))
        let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        let connection = WebSocketConnection(handler: bound, channel: channel)
        hub.submitOpen(address: address, transport: .websocket, joinToken: token, sink: connection, on: channel.eventLoop) { id in
            bound.value.opened(id)
        }
    }
}
