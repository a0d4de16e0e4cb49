import Logging
import SignalingCore
import SocketIOProtocol
import Synchronization

/// Socket.IO signaling on the shared room core: each socket is one hub session, so Socket.IO and `/ws`
/// clients meet in the same rooms. Events of both vocabularies of ``SocketIOVocabulary`` become hub
/// requests; hub messages become that socket's vocabulary's events. docs/PROTOCOL.md documents the mapping.
public final class SocketIOSignalingNamespace: SocketIONamespaceHandler {
    /// Settings of the Socket.IO signaling namespace.
    public struct Settings: Sendable {
        /// Capacity of a room created by `create or join` or `join` without a `capacity` option (the tutorials' 2).
        public var roomCapacity = 2
        /// Whether to send the codelab's `log` events (server notes) to clients.
        public var logEvents = false

        public init() {}
    }

    private let hub: SignalingHub
    private let settings: Settings
    private let logger: Logger
    private let sockets = Mutex<[String: SignalingSocket]>([:])

    /// One socket's hub connection, vocabulary and way out.
    final class SignalingSocket: Sendable {
        /// How hub messages reach the client.
        enum WayOut {
            /// Written straight to the WebSocket the session opened on.
            case webSocket(SocketIOWebSocketConnection)
            /// Queued for a writer task (polling, or a session that may upgrade).
            case outbox(Outbox)
        }

        let connection: ConnectionID
        let session: SessionID
        let wayOut: WayOut
        let vocabularyCell: SocketIOVocabularyCell

        init(connection: ConnectionID, session: SessionID, wayOut: WayOut, vocabulary: SocketIOVocabularyCell) {
            self.connection = connection
            self.session = session
            self.wayOut = wayOut
            self.vocabularyCell = vocabulary
        }

        var vocabulary: SocketIOVocabulary {
            get { vocabularyCell.value }
            set { vocabularyCell.value = newValue }
        }
    }

    /// Creates the namespace over `hub`.
    public init(hub: SignalingHub, settings: Settings = .init(), logger: Logger) {
        self.hub = hub
        self.settings = settings
        self.logger = logger
    }

    /// Disconnect reasons that end the session at once: the client left, or the server closed it.
    static let cleanReasons: Set<String> = ["client namespace disconnect", "client close", "forced close"]

    // MARK: SocketIONamespaceHandler

    public func admit(namespace: String, auth: JSONValue?, session: EngineIOSession) async -> SocketIOAdmission {
        // A join token travels in the CONNECT packet's auth payload: `io({auth: {token}})`.
        let address = ClientAddress(session.remoteAddress ?? "unknown")
        let token = auth?["token"]?.stringValue
        let vocabulary = SocketIOVocabularyCell()
        let connection: ConnectionID
        let wayOut: SignalingSocket.WayOut
        if let webSocket = session.openedOnWebSocket {
            let direct = SocketIOWebSocketConnection(
                webSocket: webSocket, session: session, vocabulary: vocabulary, holdLimit: hub.sendLimit,
                work: hub.edgeWork)
            connection = await hub.open(address: address, transport: .socketIO, joinToken: token, sink: direct)
            wayOut = .webSocket(direct)
        } else {
            let outbox: Outbox
            (connection, outbox) = await hub.open(address: address, transport: .socketIO, joinToken: token)
            wayOut = .outbox(outbox)
        }
        guard let id = await hub.session(for: connection) else {
            // The hub refused the session (its session limit); the error it queued is never written.
            await hub.ended(connection, clean: true)
            return .refuse(message: "the server is at its session limit; try again later")
        }
        // The socket id is the hub session id, so `joined(room, id)` names the client as `socket.id` does.
        sockets.withLock {
            $0[id.rawValue] = SignalingSocket(connection: connection, session: id, wayOut: wayOut, vocabulary: vocabulary)
        }
        if case .outbox(let outbox) = wayOut {
            // Once the session is on a WebSocket (socket.io's default: polling first, then the upgrade), the hub
            // writes to it directly and the outbox writer task ends.
            let hub = hub
            let handOver: @Sendable (EngineIOWebSocketSink) -> Void = { webSocket in
                let direct = SocketIOWebSocketConnection(
                    webSocket: webSocket, session: session, vocabulary: vocabulary, holdLimit: hub.sendLimit,
                    work: hub.edgeWork)
                hub.submitHandOver(connection, from: outbox, to: direct)
            }
            if let webSocket = await session.webSocket(orWhenUpgraded: handOver, key: id.rawValue) { handOver(webSocket) }
        }
        return .accept(socketID: id.rawValue)
    }

    public func connected(_ socket: SocketIOSocket, auth: JSONValue?) async {
        guard let state = sockets.withLock({ $0[socket.id] }) else { return }
        switch state.wayOut {
        case .webSocket(let direct):
            direct.connected(namespace: socket.namespace, hubSession: state.session)
        case .outbox(let outbox):
            Task { await self.write(outbox, state: state, to: socket) }
        }
    }

    public func disconnected(_ socket: SocketIOSocket, reason: String) async {
        guard let state = sockets.withLock({ $0.removeValue(forKey: socket.id) }) else { return }
        if case .outbox = state.wayOut { await socket.session.forgetUpgradeObserver(state.session.rawValue) }
        // Leaving on purpose (or being closed by the hub) is a clean leave; a lost transport waits out the
        // grace period, as a dropped `/ws` connection does.
        await hub.ended(state.connection, clean: Self.cleanReasons.contains(reason))
    }

    public func event(_ socket: SocketIOSocket, name: JSONValue, arguments: [JSONValue], attachments: [[UInt8]], ackID: UInt64?) async {
        guard let state = sockets.withLock({ $0[socket.id] }) else { return }
        let arguments = arguments.map { SocketIOBinaryEmbedding.embed($0, attachments: attachments) }
        let event = name.stringValue ?? "\(name)"
        do {
            let message = try await request(event: event, arguments: arguments, state: state, socket: socket)
            let request = ClientRequest(message, id: ackID.map { .integer(Int64($0)) })
            guard case .join = message else {
                await received(request, on: state.connection)
                return
            }
            // A join's gate goes deep (tokens, stored rooms, password hashes): in a child task, so the stack it
            // needs is returned when it ends instead of staying with the connection's long-lived task.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.received(request, on: state.connection) }
            }
        } catch {
            logger.debug(
                "rejected socket.io event", metadata: ["sig.session": "\(state.session)", "sig.code": "\(error.code.rawValue)"])
            if let ackID {
                await socket.ack(ackID, [error.ackArgument])
            } else {
                await socket.emit("error", [error.jsonObject])
            }
        }
    }

    /// A `message` without an ack goes to the hub straight from the connection's event loop (the room a
    /// `message(room, data)` names is checked there); every other event waits its turn in ``event(_:name:arguments:attachments:ackID:)``.
    public func eventWithoutWaiting(_ socket: SocketIOSocket, name: JSONValue, arguments: [JSONValue]) -> Bool {
        guard !settings.logEvents, name.stringValue == "message", let state = sockets.withLock({ $0[socket.id] }) else {
            return false
        }
        // As ``request(event:arguments:state:socket:)`` reads a `message`.
        if state.vocabulary == .joinLeave, arguments.count >= 2 {
            hub.submit(ClientRequest(.message(to: nil, data: JSONText(arguments[1]))), on: state.connection, naming: arguments[0])
        } else if let data = arguments.first {
            hub.submit(ClientRequest(.message(to: nil, data: JSONText(data))), on: state.connection)
        } else {
            return false
        }
        return true
    }

    private func received(_ request: ClientRequest, on connection: ConnectionID) async {
        if request.id != nil {
            _ = await hub.received(acknowledging: request, on: connection)
        } else {
            _ = await hub.received(request, on: connection)
        }
    }

    // MARK: Events to requests

    private func request(
        event: String, arguments: [JSONValue], state: SignalingSocket, socket: SocketIOSocket
    ) async throws(SignalingError) -> ClientMessage {
        switch event {
        case "create or join", "join":
            state.vocabulary = event == "join" ? .joinLeave : .codelab
            await note(socket, "Received request to \(event) room", arguments.first ?? .null)
            return .join(try joinRequest(event: event, arguments: arguments))
        case "leave":
            if let named = arguments.first, named != .null {
                let current = await hub.room(of: state.connection)
                guard named.stringValue == current?.rawValue else {
                    throw SignalingError(.notInRoom, "not in room \(named.serialized.prefix(80))", requestType: event)
                }
            }
            return .leave
        case "message":
            await note(socket, "Client said:", arguments.last ?? .null)
            // The join/leave vocabulary names the room first; the codelab sends the payload alone.
            guard state.vocabulary == .joinLeave, arguments.count >= 2 else {
                guard let data = arguments.first else { throw SignalingError(.missingField, "message needs a payload", requestType: event) }
                return .message(to: nil, data: JSONText(data))
            }
            let current = await hub.room(of: state.connection)
            guard arguments[0].stringValue == current?.rawValue else {
                throw SignalingError(.notInRoom, "not in room \(arguments[0].serialized.prefix(80))", requestType: event)
            }
            return .message(to: nil, data: JSONText(arguments[1]))
        default:
            throw SignalingError(.unknownType, "unknown event '\(event.prefix(64))'", requestType: String(event.prefix(64)))
        }
    }

    /// `create or join`/`join` take the room and, as an extension, an options object with `name`, `password`
    /// and `capacity`; both are checked as a `/ws` join is.
    private func joinRequest(event: String, arguments: [JSONValue]) throws(SignalingError) -> JoinRequest {
        var fields: [String: JSONValue] = [:]
        if arguments.count > 1 {
            guard case .object(let options) = arguments[1] else {
                throw SignalingError(.invalidField, "the second argument of '\(event)' must be an options object", requestType: event)
            }
            for key in ["name", "password", "capacity"] { fields[key] = options[key] }
        }
        fields["room"] = arguments.first
        var join = try JoinRequest.decode(fields: fields, requestType: event)
        join.capacity = join.capacity ?? settings.roomCapacity
        return join
    }

    /// The codelab's `log` event: server notes for the client's console, when enabled.
    private func note(_ socket: SocketIOSocket, _ text: String, _ value: JSONValue) async {
        guard settings.logEvents else { return }
        await socket.emit("log", [["Message from server:", .string(text), value]])
    }

    // MARK: Hub messages to events

    /// The writer task of a socket whose messages wait in an outbox (a polling session); it ends once the session
    /// upgrades and the hub writes to the WebSocket directly.
    private func write(_ outbox: Outbox, state: SignalingSocket, to socket: SocketIOSocket) async {
        var translation = SocketIOHubTranslation(namespace: socket.namespace, session: state.session)
        let slowConsumer = SignalingError(.slowConsumer, "messages were not read fast enough")
        for await item in outbox.items {
            if outbox.isAborted { break }
            let (packets, closes) = translation.packets(for: item, vocabulary: state.vocabulary)
            for packet in packets { await socket.send(packet) }
            if closes {
                await socket.session.close()
                return
            }
            outbox.didWrite()
        }
        if !outbox.isAborted, let direct = outbox.handedOverTo as? SocketIOWebSocketConnection {
            logger.debug("socket.io socket upgraded: hub writes go to its WebSocket", metadata: ["sig.session": "\(state.session)"])
            direct.takeOver(translation)
            return
        }
        guard outbox.isAborted else { return }
        for packet in translation.closing(error: slowConsumer) { await socket.send(packet) }
        await socket.session.close()
    }
}
