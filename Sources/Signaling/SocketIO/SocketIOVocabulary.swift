import SignalingCore

/// The event names a Socket.IO signaling client speaks, as set by the join event it last sent.
///
/// Both come from the reference material: the WebRTC codelab (`create or join`, `created`, `joined`,
/// `join`, `ready`, `full`, one-argument `message`) and the "join/leave" tutorials (`join`, `joined`,
/// `otherjoin`, `full`, `leave`, `leaved`, `bye`, `message(room, data)`). docs/PROTOCOL.md has the table.
enum SocketIOVocabulary: Sendable, Equatable {
    case codelab
    case joinLeave
}

/// One event to emit to a Socket.IO client.
struct SocketIOEmission: Equatable, Sendable {
    var event: String
    var arguments: [JSONValue]

    init(_ event: String, _ arguments: [JSONValue] = []) {
        self.event = event
        self.arguments = arguments
    }
}

extension SocketIOVocabulary {
    /// The events a room-core message becomes for a client of this vocabulary whose session is `me`.
    func emissions(for message: ServerMessage, me: SessionID) -> [SocketIOEmission] {
        switch message {
        case .joined(let room, let id, let peers, _, _):
            guard self == .codelab else { return [SocketIOEmission("joined", [.string(room.rawValue), .string(id.rawValue)])] }
            // The codelab tells the first member it created the room, and everyone `ready` once a second one is in.
            if peers.isEmpty { return [SocketIOEmission("created", [.string(room.rawValue), .string(id.rawValue)])] }
            return [SocketIOEmission("joined", [.string(room.rawValue), .string(id.rawValue)]), SocketIOEmission("ready")]
        case .otherJoined(let room, let peer):
            switch self {
            case .codelab: return [SocketIOEmission("join", [.string(room.rawValue)]), SocketIOEmission("ready")]
            case .joinLeave: return [SocketIOEmission("otherjoin", [.string(room.rawValue), .string(peer.id.rawValue)])]
            }
        case .full(let room, _, _):
            switch self {
            case .codelab: return [SocketIOEmission("full", [.string(room.rawValue)])]
            case .joinLeave: return [SocketIOEmission("full", [.string(room.rawValue), .string(me.rawValue)])]
            }
        case .left(let room):
            return [SocketIOEmission("leaved", [.string(room.rawValue), .string(me.rawValue)])]
        case .bye(let room, let id, _):
            return [SocketIOEmission("bye", [.string(room.rawValue), .string(id.rawValue)])]
        case .message(let room, _, _, let data):
            switch self {
            case .codelab: return [SocketIOEmission("message", [data.value])]
            case .joinLeave: return [SocketIOEmission("message", [.string(room.rawValue), data.value])]
            }
        case .error(let error):
            return [SocketIOEmission("error", [error.jsonObject])]
        case .reconnect(let within):
            return [SocketIOEmission("reconnect", [.object(["reason": .string("draining"), "within": .integer(Int64(within))])])]
        case .resumed, .pong:
            // Socket.IO clients neither resume nor ping through events.
            return []
        }
    }
}

extension SignalingError {
    /// The error as the object Socket.IO clients get (in an `error` event or an ack): the `/ws` error's fields.
    var jsonObject: JSONValue {
        var members: [String: JSONValue] = ["code": .string(code.rawValue), "message": .string(message)]
        if let requestType { members["request"] = .string(requestType) }
        return .object(members)
    }
}

extension SignalingError {
    /// The ack argument for a request that failed with this error.
    var ackArgument: JSONValue {
        .object(["ok": false, "code": .string(code.rawValue), "message": .string(message)])
    }
}

extension Outbox.Acknowledgement {
    /// The single ack argument: `{"ok":true}` (with the room, id and peers for a join), or
    /// `{"ok":false,"code":…,"message":…}`.
    func argument(joined: ServerMessage?) -> JSONValue {
        for reply in replies {
            switch reply {
            case .error(let error):
                return error.ackArgument
            case .full(let room, let capacity, _):
                return .object([
                    "ok": false, "code": .string(SignalingErrorCode.roomFull.rawValue),
                    "message": .string("room '\(room)' is full (capacity \(capacity))"),
                ])
            default:
                continue
            }
        }
        if case .joined(let room, let id, let peers, let capacity, _)? = joined {
            return .object([
                "ok": true, "room": .string(room.rawValue), "id": .string(id.rawValue),
                "peers": .array(peers.map { .string($0.id.rawValue) }), "capacity": .integer(Int64(capacity)),
            ])
        }
        return ["ok": true]
    }
}
