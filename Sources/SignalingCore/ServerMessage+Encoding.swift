extension OutboundMessage {
    /// The JSON text frame for this message. `type` comes first, then fields in a fixed order.
    public var json: String {
        var writer = JSONObjectWriter(type: message.type)
        switch message {
        case .joined(let room, let id, let peers, let capacity, let token):
            writer.field("room", room.rawValue)
            writer.field("id", id.rawValue)
            writer.field("peers", .array(peers.map(\.json)))
            writer.field("capacity", .integer(Int64(capacity)))
            writer.field("token", token)
        case .resumed(let room, let id, let peers, let lastSeq):
            if let room { writer.field("room", room.rawValue) }
            writer.field("id", id.rawValue)
            writer.field("peers", .array(peers.map(\.json)))
            writer.field("last_seq", .integer(Int64(clamping: lastSeq)))
        case .otherJoined(let room, let peer):
            writer.field("room", room.rawValue)
            writer.field("id", peer.id.rawValue)
            if let name = peer.name { writer.field("name", name) }
            if let identity = peer.identity { writer.field("identity", identity) }
            if !peer.canPublish { writer.field("publish", .bool(false)) }
        case .left(let room):
            writer.field("room", room.rawValue)
        case .bye(let room, let id, let reason):
            writer.field("room", room.rawValue)
            writer.field("id", id.rawValue)
            writer.field("reason", reason.rawValue)
        case .full(let room, let capacity, let requestID):
            writer.field("room", room.rawValue)
            writer.field("capacity", .integer(Int64(capacity)))
            writer.field("code", SignalingErrorCode.roomFull.rawValue)
            writer.field("message", "room '\(room)' is full (capacity \(capacity))")
            if let requestID { writer.field("id", requestID) }
        case .message(let room, let from, let to, let data):
            writer.field("room", room.rawValue)
            writer.field("from", from.rawValue)
            if let to { writer.field("to", to.rawValue) }
            writer.field("data", text: data)
        case .error(let error):
            writer.field("code", error.code.rawValue)
            writer.field("message", error.message)
            if let request = error.requestType { writer.field("request", request) }
            if let id = error.requestID { writer.field("id", id) }
        case .pong(let requestID):
            if let requestID { writer.field("id", requestID) }
        case .reconnect(let within):
            writer.field("reason", "draining")
            writer.field("within", .integer(Int64(within)))
        }
        if let seq { writer.field("seq", .integer(Int64(clamping: seq))) }
        return writer.finish()
    }
}

extension PeerInfo {
    var json: JSONValue {
        var object: [String: JSONValue] = ["id": .string(id.rawValue)]
        if let name { object["name"] = .string(name) }
        if let identity { object["identity"] = .string(identity) }
        if !canPublish { object["publish"] = .bool(false) }
        return .object(object)
    }
}

/// Writes one JSON object with members in the order they are added.
struct JSONObjectWriter {
    private var output: String

    init(type: String) {
        output = "{\"type\":"
        JSONValue.writeString(type, to: &output)
    }

    mutating func field(_ key: String, _ value: String) {
        output += ",\""
        output += key
        output += "\":"
        JSONValue.writeString(value, to: &output)
    }

    mutating func field(_ key: String, _ value: JSONValue) {
        output += ",\""
        output += key
        output += "\":"
        value.write(to: &output)
    }

    /// `data`: written as its text, verbatim when it arrived as text.
    mutating func field(_ key: String, text value: JSONText) {
        output += ",\""
        output += key
        output += "\":"
        value.write(to: &output)
    }

    consuming func finish() -> String {
        output += "}"
        return output
    }
}
