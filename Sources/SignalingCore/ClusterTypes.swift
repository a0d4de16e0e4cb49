/// One node of a cluster: a `switchboard serve` process sharing the PostgreSQL directory with others.
public struct NodeID: Hashable, Sendable, CustomStringConvertible {
    /// The identifier on the bus (unique per process run).
    public let rawValue: String

    /// Wraps a bus identifier.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// Where a session parked by a draining node waits to be resumed on another: deliveries for it go to the
    /// directory's mailbox, not to a node.
    public static let parked = NodeID("-")
}

/// A room member whose connection another node serves.
public struct RemoteMember: Equatable, Sendable {
    /// How peers see it.
    public var peer: PeerInfo
    /// The room it is in.
    public var room: RoomName
    /// The node that serves it.
    public var node: NodeID
    /// The room's capacity, as the directory holds it.
    public var capacity: Int

    /// Creates a remote member.
    public init(peer: PeerInfo, room: RoomName, node: NodeID, capacity: Int) {
        self.peer = peer
        self.room = room
        self.node = node
        self.capacity = capacity
    }
}

/// A recipient of a relayed message, with the number the sender gave the message within their pair.
///
/// A message can reach a member that moved between nodes by two paths (through its old node, or straight to its
/// new place), so the recipient's node puts each sender's numbered messages back in number order. `0` marks a
/// message that needs no number (both ends on one node that never numbered the pair).
public struct Recipient: Hashable, Sendable {
    /// The member.
    public var id: SessionID
    /// The message's number from its sender to this member, counting from 1; `0` when unnumbered.
    public var seq: UInt64

    /// Creates a recipient.
    public init(_ id: SessionID, seq: UInt64 = 0) {
        self.id = id
        self.seq = seq
    }
}

/// A relayed message that crosses to another node, which delivers it to its own members.
public enum RemoteDelivery: Equatable, Sendable {
    /// To one member (`to` in the sender's request, or a held message for a member who joined there).
    case direct(room: RoomName, from: SessionID, to: Recipient, data: JSONText)
    /// An unaddressed message (a broadcast, or one held while its sender was alone) for the one member `to`.
    case copy(room: RoomName, from: SessionID, to: Recipient, data: JSONText)
    /// To the members `to` of `room`, the ones the sender's node knows the receiving node serves.
    case broadcast(room: RoomName, from: SessionID, data: JSONText, to: [Recipient])

    /// The member a single-recipient delivery is for.
    public var recipient: Recipient? {
        switch self {
        case .direct(_, _, let to, _), .copy(_, _, let to, _): return to
        case .broadcast: return nil
        }
    }

    /// The sender.
    public var sender: SessionID {
        switch self {
        case .direct(_, let from, _, _), .copy(_, let from, _, _), .broadcast(_, let from, _, _): return from
        }
    }

    /// The message as its recipient sees it.
    func message(for recipient: SessionID) -> ServerMessage {
        switch self {
        case .direct(let room, let from, let to, let data): return .message(room: room, from: from, to: to.id, data: data)
        case .copy(let room, let from, _, let data), .broadcast(let room, let from, let data, _):
            return .message(room: room, from: from, to: nil, data: data)
        }
    }
}

/// A session a draining node handed to the directory, to be resumed on another node with everything sent to it
/// meanwhile.
public struct ParkedSession: Equatable, Sendable {
    /// How peers see it.
    public var peer: PeerInfo
    /// Its resume token (the directory keeps only a digest).
    public var token: String
    /// Its room.
    public var room: RoomName
    /// The room's capacity.
    public var capacity: Int
    /// The sequence number its next message gets.
    public var nextSeq: UInt64
    /// Sequenced messages it may not have received yet, oldest first.
    public var history: [OutboundMessage]
    /// The last number it sent each peer (see ``Recipient``).
    public var sent: [SessionID: UInt64]
    /// The last number it received from each peer, in order.
    public var received: [SessionID: UInt64]
    /// Numbered messages that arrived before an earlier one of the same sender, oldest first.
    public var early: [RemoteDelivery]

    /// Creates a parked session.
    public init(
        peer: PeerInfo, token: String, room: RoomName, capacity: Int, nextSeq: UInt64, history: [OutboundMessage],
        sent: [SessionID: UInt64] = [:], received: [SessionID: UInt64] = [:], early: [RemoteDelivery] = []
    ) {
        self.peer = peer
        self.token = token
        self.room = room
        self.capacity = capacity
        self.nextSeq = nextSeq
        self.history = history
        self.sent = sent
        self.received = received
        self.early = early
    }
}

/// A resume whose token this node does not know: the directory may hold the session, parked by a draining node.
public struct ClusterResumeRequest: Equatable, Sendable {
    /// The resume token the client gave.
    public var token: String
    /// The last sequence number it has.
    public var lastSeq: UInt64
    /// The fresh session of the connection that asked.
    public var session: SessionID
    /// The client's request id.
    public var requestID: JSONValue?

    /// Creates a request.
    public init(token: String, lastSeq: UInt64, session: SessionID, requestID: JSONValue?) {
        self.token = token
        self.lastSeq = lastSeq
        self.session = session
        self.requestID = requestID
    }
}

/// A join the cluster directory must admit before the room core completes it: capacity, the room password and
/// identity eviction are decided there, under a per-room lock, so no two nodes admit the last seat.
public struct ClusterJoinRequest: Equatable, Sendable {
    /// The joining session, as its peers will see it.
    public var peer: PeerInfo
    /// The room.
    public var room: RoomName
    /// The capacity to give the room if the join creates it.
    public var capacity: Int
    /// SHA-256 of the password the client gave, if any: set on a room the join creates, compared on an existing one.
    public var passwordDigest: [UInt8]?
    /// `false` when the edge already checked a stored room's password (its slow hash).
    public var checksPassword: Bool
    /// The client's request id, echoed in a refusal.
    public var requestID: JSONValue?
    /// The session's resume token, so a resume through another node can find it (the directory keeps a digest).
    public var token: String

    /// Creates a request.
    public init(
        peer: PeerInfo, room: RoomName, capacity: Int, passwordDigest: [UInt8]?, checksPassword: Bool, requestID: JSONValue?,
        token: String = ""
    ) {
        self.token = token
        self.peer = peer
        self.room = room
        self.capacity = capacity
        self.passwordDigest = passwordDigest
        self.checksPassword = checksPassword
        self.requestID = requestID
    }
}

/// Why the directory refused a join.
public enum ClusterJoinRefusal: Equatable, Sendable {
    /// The room is at `capacity` across the cluster.
    case full(capacity: Int)
    /// Any other refusal, with its code and message.
    case error(SignalingErrorCode, String)
}

/// Whether this core is one node of a cluster, and whether the directory answers.
public enum ClusterStatus: Equatable, Sendable {
    /// A single server: the core decides every join itself.
    case standalone
    /// A cluster node with a live directory: joins go through ``SignalingAction/clusterJoin(_:)``.
    case connected
    /// A cluster node that lost the directory: local rooms carry on, joins are refused with `cluster_unavailable`.
    case disconnected
}
