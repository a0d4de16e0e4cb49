import SignalingCore
import SocketIOProtocol

/// Turns what the hub sends one Socket.IO socket into the Socket.IO packets that socket gets, in its vocabulary.
///
/// Pure and synchronous, so the two ways out share it: the outbox writer task (polling and upgraded sessions) and
/// the direct WebSocket connection (sessions that opened on a WebSocket), which translates on the hub's loop.
struct SocketIOHubTranslation {
    /// The socket's namespace.
    let namespace: String
    /// The socket's hub session, whose own `joined` reads differently from a peer's.
    let session: SessionID
    /// The last `joined`, so a join's ack can carry the room, id and peers.
    private var lastJoined: ServerMessage?

    init(namespace: String, session: SessionID) {
        self.namespace = namespace
        self.session = session
    }

    /// The packets for one hub item; `closes` when the session ends after them.
    mutating func packets(for item: Outbox.Item, vocabulary: SocketIOVocabulary) -> (packets: [SocketIOPacket], closes: Bool) {
        switch item {
        case .message(let outbound):
            return (packets(for: outbound.message, vocabulary: vocabulary), false)
        case .replay(let messages):
            return (messages.flatMap { packets(for: $0.message, vocabulary: vocabulary) }, false)
        case .acknowledge(let acknowledgement):
            var packets: [SocketIOPacket] = []
            // `full` is an event in both vocabularies, whether or not the client asked for an ack.
            if let full = acknowledgement.replies.first, case .full = full {
                packets += events(for: full, vocabulary: vocabulary)
            }
            if case .integer(let id)? = acknowledgement.requestID, let ackID = UInt64(exactly: id) {
                let joined = acknowledgement.requestType == "join" ? lastJoined : nil
                packets.append(ack(ackID, acknowledgement.argument(joined: joined)))
            }
            return (packets, false)
        case .close:
            // The hub queued the error itself just before.
            return (closing(error: nil), true)
        }
    }

    /// What a server-side close sends: the error if any, then the server's DISCONNECT (the reference server's
    /// `socket.disconnect(true)`); the Engine.IO session ends after it.
    func closing(error: SignalingError?) -> [SocketIOPacket] {
        var packets: [SocketIOPacket] = []
        if let error { packets.append(event("error", [error.jsonObject])) }
        packets.append(SocketIOPacket(.disconnect, namespace: namespace))
        return packets
    }

    private mutating func packets(for message: ServerMessage, vocabulary: SocketIOVocabulary) -> [SocketIOPacket] {
        switch message {
        case .joined:
            lastJoined = message
        case .error(let error) where error.code.isFatal && error.requestID != nil:
            // A fatal error ends the connection before the request's ack item: answer the ack here.
            guard case .integer(let id)? = error.requestID, let ackID = UInt64(exactly: id) else { return [] }
            return [ack(ackID, error.ackArgument)]
        default:
            break
        }
        return events(for: message, vocabulary: vocabulary)
    }

    private func events(for message: ServerMessage, vocabulary: SocketIOVocabulary) -> [SocketIOPacket] {
        vocabulary.emissions(for: message, me: session).map { emission in
            let (arguments, attachments) = SocketIOBinaryEmbedding.extract(emission.arguments)
            return event(emission.event, arguments, attachments: attachments)
        }
    }

    private func event(_ name: String, _ arguments: [JSONValue], attachments: [[UInt8]] = []) -> SocketIOPacket {
        SocketIOPacket(
            attachments.isEmpty ? .event : .binaryEvent, namespace: namespace, data: .array([.string(name)] + arguments),
            attachments: attachments)
    }

    private func ack(_ id: UInt64, _ argument: JSONValue) -> SocketIOPacket {
        SocketIOPacket(.ack, namespace: namespace, id: id, data: .array([argument]))
    }
}

extension SocketIOPacket {
    /// The Engine.IO messages that carry this packet: its text, then each binary attachment.
    var engineIOPackets: [EngineIOPacket] {
        [EngineIOPacket(message: .text(encoded))] + attachments.map { EngineIOPacket(message: .binary($0)) }
    }
}
