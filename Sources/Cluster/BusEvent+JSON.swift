import SignalingCore

extension BusEvent {
    /// The event as a JSON object: `t` names the kind, short keys keep batches small.
    var json: JSONValue {
        switch self {
        case .joined(let member):
            var object: [String: JSONValue] = [
                "t": "j", "s": .string(member.peer.id.rawValue), "r": .string(member.room.rawValue),
                "n": .string(member.node.rawValue), "c": .integer(Int64(member.capacity)),
            ]
            if let name = member.peer.name { object["name"] = .string(name) }
            if let identity = member.peer.identity { object["identity"] = .string(identity) }
            if !member.peer.canPublish { object["publish"] = .bool(false) }
            return .object(object)
        case .left(let session, let room, let reason):
            return ["t": "l", "s": .string(session.rawValue), "r": .string(room.rawValue), "why": .string(reason.rawValue)]
        case .delivery(.direct(let room, let from, let to, let data)), .delivery(.copy(let room, let from, let to, let data)):
            var object: [String: JSONValue] = [
                "t": "m", "r": .string(room.rawValue), "f": .string(from.rawValue), "to": .string(to.id.rawValue), "d": data.value,
            ]
            if case .delivery(.copy) = self { object["t"] = "c" }
            if to.seq != 0 { object["n"] = .integer(Int64(clamping: to.seq)) }
            return .object(object)
        case .delivery(.broadcast(let room, let from, let data, let recipients)):
            var object: [String: JSONValue] = [
                "t": "b", "r": .string(room.rawValue), "f": .string(from.rawValue), "d": data.value,
                "to": .array(recipients.map { .string($0.id.rawValue) }),
            ]
            if recipients.contains(where: { $0.seq != 0 }) {
                object["n"] = .array(recipients.map { .integer(Int64(clamping: $0.seq)) })
            }
            return .object(object)
        case .moved(let session, let room, let node):
            return ["t": "v", "s": .string(session.rawValue), "r": .string(room.rawValue), "n": .string(node.rawValue)]
        case .kick(let session):
            return ["t": "k", "s": .string(session.rawValue)]
        case .handOver(let session):
            return ["t": "o", "s": .string(session.rawValue)]
        case .nodeDown(let node):
            return ["t": "x", "n": .string(node.rawValue)]
        }
    }

    /// Reads an event, refusing anything malformed rather than guessing.
    init(json: JSONValue) throws(BusDecodingError) {
        guard let object = json.objectValue, let kind = object["t"]?.stringValue else {
            throw BusDecodingError("an event is not an object with a kind")
        }
        func text(_ key: String) throws(BusDecodingError) -> String {
            guard let value = object[key]?.stringValue, !value.isEmpty else { throw BusDecodingError("event '\(kind)' lacks '\(key)'") }
            return value
        }
        func session(_ key: String) throws(BusDecodingError) -> SessionID { SessionID(try text(key)) }
        func room() throws(BusDecodingError) -> RoomName {
            guard let room = RoomName(try text("r")) else { throw BusDecodingError("event '\(kind)' has an invalid room") }
            return room
        }
        func number(_ value: JSONValue?) throws(BusDecodingError) -> UInt64 {
            guard let value else { return 0 }
            guard let number = value.integerValue, number >= 0 else { throw BusDecodingError("event '\(kind)' has an invalid number") }
            return UInt64(number)
        }
        func data() throws(BusDecodingError) -> JSONText {
            guard let data = object["d"] else { throw BusDecodingError("event '\(kind)' lacks 'd'") }
            return JSONText(data)
        }
        switch kind {
        case "j":
            guard let capacity = object["c"]?.integerValue, capacity > 0, capacity <= Int64(Int32.max) else {
                throw BusDecodingError("event 'j' has an invalid capacity")
            }
            let peer = PeerInfo(
                id: try session("s"), name: object["name"]?.stringValue, identity: object["identity"]?.stringValue,
                canPublish: object["publish"] != .bool(false))
            self = .joined(RemoteMember(peer: peer, room: try room(), node: NodeID(try text("n")), capacity: Int(capacity)))
        case "l":
            guard let reason = ByeReason(rawValue: try text("why")) else { throw BusDecodingError("event 'l' has an unknown reason") }
            self = .left(try session("s"), room: try room(), reason: reason)
        case "m", "c":
            let recipient = Recipient(try session("to"), seq: try number(object["n"]))
            let (room, from, data) = (try room(), try session("f"), try data())
            self = .delivery(
                kind == "m"
                    ? .direct(room: room, from: from, to: recipient, data: data) : .copy(room: room, from: from, to: recipient, data: data))
        case "b":
            guard case .array(let items)? = object["to"] else { throw BusDecodingError("event 'b' lacks its recipients") }
            var numbers: [JSONValue]?
            if let value = object["n"] {
                guard case .array(let list) = value, list.count == items.count else {
                    throw BusDecodingError("event 'b' has numbers that do not match its recipients")
                }
                numbers = list
            }
            var recipients: [Recipient] = []
            for (index, item) in items.enumerated() {
                guard let id = item.stringValue, !id.isEmpty else { throw BusDecodingError("event 'b' has an invalid recipient") }
                recipients.append(Recipient(SessionID(id), seq: try number(numbers?[index])))
            }
            self = .delivery(.broadcast(room: try room(), from: try session("f"), data: try data(), to: recipients))
        case "v":
            self = .moved(try session("s"), room: try room(), node: NodeID(try text("n")))
        case "k":
            self = .kick(try session("s"))
        case "o":
            self = .handOver(try session("s"))
        case "x":
            self = .nodeDown(NodeID(try text("n")))
        default:
            throw BusDecodingError("unknown event kind '\(kind.prefix(16))'")
        }
    }
}
