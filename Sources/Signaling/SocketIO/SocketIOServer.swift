import NIOCore
import SignalingCore
import SocketIOProtocol
import Synchronization

/// Socket.IO v5 on top of Engine.IO: namespaces, the parser rules, binary attachments, connectTimeout.
///
/// Any packet that breaks the parser rules closes that client's Engine.IO session, and only it.
public final class SocketIOServer: EngineIOApplication {
    private let namespaces: [String: any SocketIONamespaceHandler]
    private let connectTimeout: Duration
    private let maximumAttachments: Int
    private let clients = Mutex<[String: ClientState]>([:])

    struct ClientState {
        var sockets: [String: SocketIOSocket] = [:]
        var assembler = SocketIOBinaryAssembler()
        var connectTimer: Scheduled<Void>?
    }

    public init(
        namespaces: [String: any SocketIONamespaceHandler], connectTimeout: Duration = .seconds(45), maximumAttachments: Int = 10
    ) {
        self.namespaces = namespaces
        self.connectTimeout = connectTimeout
        self.maximumAttachments = maximumAttachments
    }

    public func opened(_ session: EngineIOSession) async {
        let timeout = connectTimeout
        // A client that joins no namespace in time is closed (connectTimeout). A timer holds no stack while it
        // waits; only a client that never connects makes it run a (short) task.
        let timer = session.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [weak self] in
            guard let self, self.clients.withLock({ $0[session.sid]?.sockets.isEmpty ?? false }) else { return }
            Task { await session.close() }
        }
        clients.withLock { $0[session.sid] = ClientState(connectTimer: timer) }
    }

    public func received(_ payload: EngineIOPacket.Payload, on session: EngineIOSession) async {
        let completed: SocketIOPacket?
        do {
            completed = try assemble(payload, sid: session.sid)
        } catch {
            await session.close()
            return
        }
        guard let packet = completed else { return }
        await handle(packet, on: session)
    }

    /// An EVENT with neither attachments nor an ack id, for a socket already connected, may be handled without
    /// waiting (see ``SocketIONamespaceHandler/eventWithoutWaiting(_:name:arguments:)``); anything else, including
    /// a packet that does not parse, is left to ``received(_:on:)``.
    public func receivedWithoutWaiting(_ payload: EngineIOPacket.Payload, on session: EngineIOSession) -> Bool {
        // Parsed outside the lock every client shares: only the lookup needs it.
        guard case .text(let text) = payload,
            let (packet, attachments) = try? SocketIOPacket.parse(text, maximumAttachments: maximumAttachments),
            attachments == 0, packet.type == .event, packet.id == nil, case .array(let items)? = packet.data,
            let name = items.first, let handler = namespaces[packet.namespace]
        else { return false }
        let found = clients.withLock { clients -> SocketIOSocket? in
            guard let state = clients[session.sid], !state.assembler.isAwaitingAttachments else { return nil }
            return state.sockets[packet.namespace]
        }
        guard let socket = found else { return false }
        return handler.eventWithoutWaiting(socket, name: name, arguments: Array(items.dropFirst()))
    }

    public func closed(_ session: EngineIOSession, reason: String) async {
        guard let state = clients.withLock({ $0.removeValue(forKey: session.sid) }) else { return }
        state.connectTimer?.cancel()
        for socket in state.sockets.values {
            await namespaces[socket.namespace]?.disconnected(socket, reason: reason)
        }
    }

    private func assemble(_ payload: EngineIOPacket.Payload, sid: String) throws(SocketIOParseError) -> SocketIOPacket? {
        switch payload {
        case .text(let text):
            // Parsed outside the lock every client shares: only the client's assembler needs it.
            let (header, count) = try SocketIOPacket.parse(text, maximumAttachments: maximumAttachments)
            return try clients.withLock { clients throws(SocketIOParseError) -> SocketIOPacket? in
                guard clients[sid] != nil else { return nil }
                return try clients[sid]!.assembler.begin(header, attachmentCount: count)
            }
        case .binary(let bytes):
            return try clients.withLock { clients throws(SocketIOParseError) -> SocketIOPacket? in
                guard clients[sid] != nil else { return nil }
                return try clients[sid]!.assembler.add(bytes)
            }
        }
    }

    private func handle(_ packet: SocketIOPacket, on session: EngineIOSession) async {
        let socket = clients.withLock { $0[session.sid]?.sockets[packet.namespace] }
        switch packet.type {
        case .connect:
            await connect(packet, on: session, existing: socket)
        case .disconnect:
            guard let socket else { return }
            _ = clients.withLock { $0[session.sid]?.sockets.removeValue(forKey: packet.namespace) }
            await namespaces[packet.namespace]?.disconnected(socket, reason: "client namespace disconnect")
        case .event, .binaryEvent:
            guard let socket, case .array(let items)? = packet.data, let name = items.first else { return }
            await namespaces[packet.namespace]?.event(
                socket, name: name, arguments: Array(items.dropFirst()), attachments: packet.attachments, ackID: packet.id)
        case .ack, .binaryAck:
            guard let socket, let id = packet.id, case .array(let items)? = packet.data else { return }
            await namespaces[packet.namespace]?.acknowledged(socket, id: id, arguments: items, attachments: packet.attachments)
        case .connectError:
            // Only servers send CONNECT_ERROR.
            await session.close()
        }
    }

    private func connect(_ packet: SocketIOPacket, on session: EngineIOSession, existing: SocketIOSocket?) async {
        let namespace = packet.namespace
        guard existing == nil else { return }
        guard let handler = namespaces[namespace] else {
            await send(SocketIOPacket(.connectError, namespace: namespace, data: ["message": "Invalid namespace"]), on: session)
            return
        }
        let socket: SocketIOSocket
        switch await handler.admit(namespace: namespace, auth: packet.data, session: session) {
        case .accept(let socketID):
            socket = SocketIOSocket(id: socketID, namespace: namespace, session: session)
        case .refuse(let message):
            await send(SocketIOPacket(.connectError, namespace: namespace, data: ["message": .string(message)]), on: session)
            return
        }
        // Check and store in one step: admission suspends, so the session may have ended meanwhile (`closed`
        // has run), or a second CONNECT for the namespace (say, one on a POST and one on the upgrading
        // WebSocket) may have been admitted first. Either way this socket is ended here, never leaked.
        let outcome = clients.withLock { clients -> String? in
            guard clients[session.sid] != nil else { return "transport close" }
            guard clients[session.sid]?.sockets[namespace] == nil else { return "duplicate connect" }
            clients[session.sid]?.sockets[namespace] = socket
            return nil
        }
        if let reason = outcome {
            await handler.disconnected(socket, reason: reason)
            return
        }
        // The client joined a namespace in time: its connect timer has nothing left to check.
        clients.withLock { $0[session.sid]?.connectTimer?.cancel() }
        await send(SocketIOPacket(.connect, namespace: namespace, data: ["sid": .string(socket.id)]), on: session)
        await handler.connected(socket, auth: packet.data)
    }

    private func send(_ packet: SocketIOPacket, on session: EngineIOSession) async {
        await session.send(message: .text(packet.encoded))
    }
}
