/// A request from a client, as parsed from one JSON text frame.
public enum ClientMessage: Equatable, Sendable {
    /// Enter a room, creating it if needed. `capacity` and `password` apply only when creating.
    case join(JoinRequest)
    /// Leave the current room.
    case leave
    /// Relay `data` to one member (`to`) or to every other member of the sender's room.
    case message(to: SessionID?, data: JSONValue)
    /// Liveness probe; `ack` optionally acknowledges server messages up to that sequence number.
    case ping(ack: UInt64?)
    /// Reattach to a session whose connection dropped, replaying everything after `lastSeq`.
    case resume(token: String, lastSeq: UInt64)

    /// The wire `type` of this request.
    public var type: String {
        switch self {
        case .join: return "join"
        case .leave: return "leave"
        case .message: return "message"
        case .ping: return "ping"
        case .resume: return "resume"
        }
    }
}

/// The fields of a `join` request.
public struct JoinRequest: Equatable, Sendable {
    /// The room to enter.
    public var room: RoomName
    /// The display name shown to the other members.
    public var name: String?
    /// The room password: required to enter a protected room, or sets one when creating.
    public var password: String?
    /// Members allowed, when this join creates the room.
    public var capacity: Int?

    /// Creates a join request.
    public init(room: RoomName, name: String? = nil, password: String? = nil, capacity: Int? = nil) {
        self.room = room
        self.name = name
        self.password = password
        self.capacity = capacity
    }
}

/// A parsed request with the client's optional correlation `id`, echoed in any error it causes.
public struct ClientRequest: Equatable, Sendable {
    /// The client's correlation id (a string or a number), if it sent one.
    public var id: JSONValue?
    /// The request itself.
    public var message: ClientMessage

    /// Creates a request.
    public init(_ message: ClientMessage, id: JSONValue? = nil) {
        self.message = message
        self.id = id
    }
}
