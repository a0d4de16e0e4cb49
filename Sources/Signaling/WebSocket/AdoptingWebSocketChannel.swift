import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// HTTP/1.1 with WebSocket upgrades whose connections carry a ``NativeUpgradeNote``: a WebSocket upgrade a signaling
/// route accepted (`/ws`, Engine.IO) is handed to that route on the event loop as the upgrade completes, and the
/// connection's task then ends; every other connection is served as `base` serves it.
public struct AdoptingWebSocketChannel: ServerChildChannel {
    /// The upgrade result, and the note a route leaves when it takes the connection.
    public struct Value: ServerChildChannelValue {
        let base: HTTP1WebSocketUpgradeChannel.Value
        let note: NativeUpgradeNote
        /// Completes when the first request was upgraded, or not.
        let upgrade: EventLoopFuture<Void>
        public var channel: any Channel { base.channel }
    }

    let base: HTTP1WebSocketUpgradeChannel

    /// Serves connections as `base` does, unless a route adopts their WebSocket.
    public init(base: HTTP1WebSocketUpgradeChannel) {
        self.base = base
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let sync = channel.pipeline.syncOperations
            let note = NativeUpgradeNote()
            try sync.addHandler(note)
            let upgrader = try sync.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            let upgrade = upgrader.upgradeResultFuture
            // Runs on the loop as the upgrade completes, before the frames that came with it are passed on.
            upgrade.whenComplete { result in
                if case .success(.websocket(let upgraded, _, _)) = result { note.adopt(upgraded) } else { note.abandon() }
                channel.pipeline.syncOperations.removeHandler(note, promise: nil)
            }
            return Value(base: value, note: note, upgrade: upgrade.map { _ in () })
        }
    }

    public func handle(value: Value, logger: Logger) async {
        _ = try? await value.upgrade.get()
        if value.note.wasAdopted {
            return  // a signaling route serves it on the event loop, with no task
        }
        await base.handle(value: value.base, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with WebSocket upgrades through `webSocketRouter`, whose signaling routes may adopt upgraded
    /// connections (``AdoptingWebSocketChannel``).
    public static func adoptingWebSocketUpgrade<WebSocketRouter: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: WebSocketRouter, configuration: HTTP1WebSocketUpgradeChannel.Configuration
    ) -> HTTPServerBuilder where WebSocketRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            AdoptingWebSocketChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder, configuration: configuration))
        }
    }
}
