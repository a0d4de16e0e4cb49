import NIOCore
import SocketIOProtocol
import Synchronization

/// The live Engine.IO sessions of one endpoint, by sid.
public final class EngineIOServer: Sendable {
    let configuration: EngineIOConfiguration
    let application: any EngineIOApplication
    private let sessions = Mutex<[String: EngineIOSession]>([:])

    public init(configuration: EngineIOConfiguration, application: any EngineIOApplication) {
        self.configuration = configuration
        self.application = application
    }

    /// A `message` its application handles at once, on the connection's event loop (see
    /// ``EngineIOApplication/receivedWithoutWaiting(_:on:)``).
    func receivedWithoutWaiting(_ payload: EngineIOPacket.Payload, on session: EngineIOSession) -> Bool {
        application.receivedWithoutWaiting(payload, on: session)
    }

    func session(_ sid: String) -> EngineIOSession? {
        sessions.withLock { $0[sid] }
    }

    /// Opens a session on `transport` for the client at `remoteAddress` and starts its heartbeat, timed on `eventLoop`.
    /// `webSocket` is the connection of a session that opens on a WebSocket.
    func open(
        transport: EngineIOSession.Transport, remoteAddress: String?, eventLoop: any EventLoop,
        webSocket: EngineIOWebSocketSink? = nil
    ) async -> EngineIOSession {
        // 120 bits, as base64url: unguessable, and JSON-safe for the `open` packet.
        let sid = SecureIdentifiers.randomBase64URL(byteCount: 15)
        let session = EngineIOSession(
            sid: sid, remoteAddress: remoteAddress, transport: transport, configuration: configuration, application: application,
            eventLoop: eventLoop, openedOnWebSocket: webSocket, onEnd: { [weak self] sid in self?.remove(sid) })
        sessions.withLock { $0[sid] = session }
        await session.start()
        return session
    }

    private func remove(_ sid: String) {
        _ = sessions.withLock { $0.removeValue(forKey: sid) }
    }
}
