/// A request from a client, as parsed from one JSON text frame.
public enum ClientMessage: Equatable, Sendable {
    /// Enter a room, creating it if needed. `capacity` and `password` apply only when creating.
    case join(JoinRequest)
    /// Leave the current room.
    case leave
    /// Relay `data` to one member (`to`) or to every other member of the sender's room.
    case message(to: SessionID?, data: JSONText)
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
    /// A signed join token, when the client passes it in the join rather than when connecting.
    public var token: String?
    /// What the server decided before the core sees the join (token, stored room). Never read from the client.
    public var admission: JoinAdmission?

    /// Creates a join request.
    public init(
        room: RoomName, name: String? = nil, password: String? = nil, capacity: Int? = nil, token: String? = nil,
        admission: JoinAdmission? = nil
    ) {
        self.room = room
        self.name = name
        self.password = password
        self.capacity = capacity
        self.token = token
        self.admission = admission
    }
}

/// The server's own checks of a join, made at the edge (signatures, database lookups, slow password hashes) so
/// the core stays pure; the core applies them after its rate limit, so they cannot be probed quickly.
public struct JoinAdmission: Equatable, Sendable {
    /// The join is refused with this error.
    public var refusal: SignalingError?
    /// The identity the join token vouches for; another session with it in the room is evicted.
    public var identity: String?
    /// The display name from the token, which wins over the client's.
    public var name: String?
    /// Whether the token lets the holder publish media.
    public var canPublish: Bool
    /// The persistent room's settings, when the room is stored.
    public var storedRoom: StoredRoomRules?

    /// Creates an admission; the default admits as the client asked.
    public init(
        refusal: SignalingError? = nil, identity: String? = nil, name: String? = nil, canPublish: Bool = true,
        storedRoom: StoredRoomRules? = nil
    ) {
        self.refusal = refusal
        self.identity = identity
        self.name = name
        self.canPublish = canPublish
        self.storedRoom = storedRoom
    }
}

/// A persistent room's rules, which win over what a join asks for. Its password was checked at the edge.
public struct StoredRoomRules: Equatable, Sendable {
    /// Members admitted at once; `nil` is the server's default.
    public var capacity: Int?
    /// Nobody new may enter.
    public var isLocked: Bool

    /// Creates rules.
    public init(capacity: Int?, isLocked: Bool) {
        self.capacity = capacity
        self.isLocked = isLocked
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
