/// Why a server frame could not be understood by a client.
public struct ServerMessageDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var reason: String

    public var description: String { reason }
}

extension OutboundMessage {
    /// Parses a server frame (the client side of the native protocol).
    public static func decode(_ bytes: some Collection<UInt8>) throws(ServerMessageDecodingError) -> OutboundMessage {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw ServerMessageDecodingError(reason: "invalid JSON: \(error)")
        }
        guard case .object(let fields) = value, let type = fields["type"]?.stringValue else {
            throw ServerMessageDecodingError(reason: "frame is not an object with a string 'type'")
        }
        func string(_ key: String) throws(ServerMessageDecodingError) -> String {
            guard let text = fields[key]?.stringValue else {
                throw ServerMessageDecodingError(reason: "'\(type)' lacks string field '\(key)'")
            }
            return text
        }
        func integer(_ key: String) throws(ServerMessageDecodingError) -> Int64 {
            guard let number = fields[key]?.integerValue else {
                throw ServerMessageDecodingError(reason: "'\(type)' lacks integer field '\(key)'")
            }
            return number
        }
        func room() throws(ServerMessageDecodingError) -> RoomName {
            guard let name = RoomName(try string("room")) else {
                throw ServerMessageDecodingError(reason: "'\(type)' has an invalid room name")
            }
            return name
        }
        func peers() -> [PeerInfo] {
            guard case .array(let list)? = fields["peers"] else { return [] }
            return list.compactMap { peer in
                peer["id"]?.stringValue.map {
                    PeerInfo(
                        id: SessionID($0), name: peer["name"]?.stringValue, identity: peer["identity"]?.stringValue,
                        canPublish: peer["publish"] != .bool(false))
                }
            }
        }
        let message: ServerMessage
        switch type {
        case "joined":
            message = .joined(
                room: try room(), id: SessionID(try string("id")), peers: peers(),
                capacity: Int(try integer("capacity")), token: try string("token"))
        case "resumed":
            message = .resumed(
                room: fields["room"]?.stringValue.flatMap(RoomName.init), id: SessionID(try string("id")),
                peers: peers(), lastSeq: UInt64(max(0, try integer("last_seq"))))
        case "other_joined":
            message = .otherJoined(
                room: try room(),
                peer: PeerInfo(
                    id: SessionID(try string("id")), name: fields["name"]?.stringValue, identity: fields["identity"]?.stringValue,
                    canPublish: fields["publish"] != .bool(false)))
        case "left":
            message = .left(room: try room())
        case "bye":
            message = .bye(
                room: try room(), id: SessionID(try string("id")),
                reason: ByeReason(rawValue: (try? string("reason")) ?? "") ?? .removed)
        case "full":
            message = .full(room: try room(), capacity: Int(try integer("capacity")), requestID: fields["id"])
        case "message":
            message = .message(
                room: try room(), from: SessionID(try string("from")),
                to: fields["to"]?.stringValue.map(SessionID.init), data: JSONText(fields["data"] ?? .null))
        case "error":
            guard let code = SignalingErrorCode(rawValue: try string("code")) else {
                throw ServerMessageDecodingError(reason: "unknown error code")
            }
            message = .error(
                SignalingError(
                    code, (try? string("message")) ?? "", requestType: fields["request"]?.stringValue,
                    requestID: fields["id"]))
        case "pong":
            message = .pong(requestID: fields["id"])
        case "reconnect":
            message = .reconnect(within: Int(fields["within"]?.integerValue ?? 0))
        default:
            throw ServerMessageDecodingError(reason: "unknown message type '\(type)'")
        }
        let seq = fields["seq"]?.integerValue.flatMap { $0 >= 0 ? UInt64($0) : nil }
        return OutboundMessage(seq: seq, message: message)
    }
}
