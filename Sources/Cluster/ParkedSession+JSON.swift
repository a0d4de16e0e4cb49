import Crypto
import SignalingCore
import Storage

extension ParkedSession {
    /// What the directory stores of a parked session beside its id, room and token digest: how peers see it, the
    /// room's capacity, its next sequence number and its history as the wire frames it would have been sent.
    public var storedState: String {
        var object: [String: JSONValue] = [
            "capacity": .integer(Int64(capacity)), "next_seq": .integer(Int64(clamping: nextSeq)),
            "publish": .bool(peer.canPublish), "history": .array(history.map { .string($0.json) }),
        ]
        if let name = peer.name { object["name"] = .string(name) }
        if let identity = peer.identity { object["identity"] = .string(identity) }
        if !sent.isEmpty { object["sent"] = Self.numbers(sent) }
        if !received.isEmpty { object["received"] = Self.numbers(received) }
        if !early.isEmpty { object["early"] = .array(early.map { BusEvent.delivery($0).json }) }
        return JSONValue.object(object).serialized
    }

    /// Reads a stored state back; `token` is the one the resuming client gave (only its digest is stored).
    public init(session: SessionID, room: RoomName, token: String, storedState: String) throws(BusDecodingError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: Array(storedState.utf8), maximumDepth: JSONValue.envelopeDepth)
        } catch {
            throw BusDecodingError("a parked session's state is not JSON: \(error)")
        }
        guard let capacity = value["capacity"]?.integerValue, capacity > 0, let nextSeq = value["next_seq"]?.integerValue, nextSeq > 0,
            case .array(let frames)? = value["history"]
        else { throw BusDecodingError("a parked session's state lacks its fields") }
        var history: [OutboundMessage] = []
        for frame in frames {
            guard let text = frame.stringValue, let message = try? OutboundMessage.decode(Array(text.utf8)) else {
                throw BusDecodingError("a parked session's history holds an unreadable frame")
            }
            history.append(message)
        }
        var early: [RemoteDelivery] = []
        if case .array(let items)? = value["early"] {
            for item in items {
                guard case .delivery(let delivery) = try BusEvent(json: item), delivery.recipient != nil else {
                    throw BusDecodingError("a parked session's early messages hold something else")
                }
                early.append(delivery)
            }
        }
        self.init(
            peer: PeerInfo(
                id: session, name: value["name"]?.stringValue, identity: value["identity"]?.stringValue,
                canPublish: value["publish"] != .bool(false)),
            token: token, room: room, capacity: Int(clamping: capacity), nextSeq: UInt64(nextSeq), history: history,
            sent: try Self.numbers(value["sent"]), received: try Self.numbers(value["received"]), early: early)
    }

    /// Per-peer message numbers as a JSON object.
    private static func numbers(_ numbers: [SessionID: UInt64]) -> JSONValue {
        .object(numbers.reduce(into: [:]) { object, entry in object[entry.key.rawValue] = .integer(Int64(clamping: entry.value)) })
    }

    private static func numbers(_ value: JSONValue?) throws(BusDecodingError) -> [SessionID: UInt64] {
        guard let value else { return [:] }
        guard case .object(let object) = value else { throw BusDecodingError("a parked session's numbers are not an object") }
        var numbers: [SessionID: UInt64] = [:]
        for (id, number) in object {
            guard let number = number.integerValue, number >= 0 else { throw BusDecodingError("a parked session's numbers are invalid") }
            numbers[SessionID(id)] = UInt64(number)
        }
        return numbers
    }

    /// The digest the directory finds a parked session by: its resume token is a secret, so it is not stored.
    public static func tokenDigest(_ token: String) -> String {
        HexKey.encode(Array(SHA256.hash(data: Array(token.utf8))))
    }
}
