/// A room member as listed in `joined`, `resumed` and `other_joined`.
public struct PeerInfo: Equatable, Sendable {
    /// The member's session id.
    public var id: SessionID
    /// The member's display name, if it gave one.
    public var name: String?
    /// The identity its join token vouched for (`sub`), when the server requires join tokens.
    public var identity: String?
    /// `false` when its join token says it may not publish media (clients should then receive only).
    public var canPublish: Bool

    /// Creates a peer description.
    public init(id: SessionID, name: String?, identity: String? = nil, canPublish: Bool = true) {
        self.id = id
        self.name = name
        self.identity = identity
        self.canPublish = canPublish
    }
}

/// Why a member left, as reported in `bye`.
public enum ByeReason: String, Sendable {
    /// It sent `leave`.
    case left
    /// Its connection closed cleanly.
    case closed
    /// Its connection dropped and it did not resume within the grace period.
    case timeout
    /// The server removed it (for example, its resume failed).
    case removed
    /// The same identity joined again (another tab or device), so this older session was evicted.
    case evicted
}

/// A message from the server to one client.
public enum ServerMessage: Equatable, Sendable {
    /// You entered `room`: your id, the members already there, the capacity and your resume token.
    case joined(room: RoomName, id: SessionID, peers: [PeerInfo], capacity: Int, token: String)
    /// Your session was resumed; everything after `lastSeq` follows.
    case resumed(room: RoomName?, id: SessionID, peers: [PeerInfo], lastSeq: UInt64)
    /// Another member entered your room.
    case otherJoined(room: RoomName, peer: PeerInfo)
    /// Acknowledges your `leave`.
    case left(room: RoomName)
    /// A member is gone.
    case bye(room: RoomName, id: SessionID, reason: ByeReason)
    /// The room is at capacity; you were not admitted.
    case full(room: RoomName, capacity: Int, requestID: JSONValue?)
    /// A relayed message; `from` is stamped by the server, `to` echoed when it was addressed.
    case message(room: RoomName, from: SessionID, to: SessionID?, data: JSONText)
    /// A request failed or an asynchronous problem occurred.
    case error(SignalingError)
    /// Answers `ping`.
    case pong(requestID: JSONValue?)
    /// The server is shutting down: reconnect (a load balancer sends you to another node) within `within` seconds,
    /// when this one stops serving.
    case reconnect(within: Int)

    /// The wire `type`.
    public var type: String {
        switch self {
        case .joined: return "joined"
        case .resumed: return "resumed"
        case .otherJoined: return "other_joined"
        case .left: return "left"
        case .bye: return "bye"
        case .full: return "full"
        case .message: return "message"
        case .error: return "error"
        case .pong: return "pong"
        case .reconnect: return "reconnect"
        }
    }
}

/// A server message as sent: sequenced room events carry `seq`, so a resuming client can say what it has.
public struct OutboundMessage: Equatable, Sendable {
    /// The per-session sequence number, or `nil` for direct replies (errors, pong, full, resumed).
    public var seq: UInt64?
    /// The message.
    public var message: ServerMessage

    /// Creates an outbound message.
    public init(seq: UInt64?, message: ServerMessage) {
        self.seq = seq
        self.message = message
    }
}
