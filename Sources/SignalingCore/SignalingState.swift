import Crypto
import DequeModule

/// The room core: sessions, rooms, delivery, held messages, resume and rate limits.
///
/// A pure state machine. Each event method is named for what happened and returns the actions the edge
/// must perform, in order. It does no I/O, reads no clock and starts no timer: `now` comes in with every
/// event, and the edge calls ``timerFired(now:)`` periodically.
public struct SignalingState: Sendable {
    /// The limits in force.
    public let configuration: SignalingConfiguration

    var sessions: [SessionID: Session] = [:]
    var connections: [ConnectionID: SessionID] = [:]
    var tokens: [String: SessionID] = [:]
    var rooms: [RoomName: Room] = [:]
    var joinBuckets: [ClientAddress: TokenBucket] = [:]
    /// Rooms holding messages, so expiry does not scan every room.
    var roomsWithHeldMessages: Set<RoomName> = []
    /// Sessions in their grace period, so expiry does not scan every session.
    var detachedSessions: Set<SessionID> = []
    /// Sessions holding messages that arrived out of order, so the tick does not scan every session.
    var sessionsWithEarlyDeliveries: Set<SessionID> = []
    /// Entries and exits not yet taken by the edge (``takeMembershipChanges()``).
    var membershipChanges: [MembershipChange] = []
    /// Members of rooms served by other nodes of the cluster (they are in their rooms' member lists too).
    var remoteMembers: [SessionID: RemoteMember] = [:]
    /// Whether joins go through a cluster directory.
    public internal(set) var clusterStatus = ClusterStatus.standalone
    /// Shutting down: joins are refused (sessions already in rooms carry on until the process stops).
    public internal(set) var isDraining = false

    /// An empty core.
    public init(configuration: SignalingConfiguration = .init()) {
        self.configuration = configuration
    }

    /// Sessions held, connected or in grace.
    public var sessionCount: Int { sessions.count }
    /// Rooms with at least one member.
    public var roomCount: Int { rooms.count }

    /// The members of `room` in join order, or `nil` when it does not exist.
    public func members(of room: RoomName) -> [SessionID]? {
        rooms[room]?.members
    }

    /// The room a session is in.
    public func room(of session: SessionID) -> RoomName? {
        sessions[session]?.room
    }

    /// The connection a session is attached to, if it is not in its grace period.
    public func connection(of session: SessionID) -> ConnectionID? {
        sessions[session]?.connection
    }

    /// How a member appears to its peers, whichever node serves it.
    func peerInfo(of id: SessionID) -> PeerInfo? {
        sessions[id]?.peerInfo ?? remoteMembers[id]?.peer
    }

    /// The client address a connection's session came from.
    public func address(of connection: ConnectionID) -> ClientAddress? {
        connections[connection].flatMap { sessions[$0]?.address }
    }

    /// The session a connection speaks for.
    public func session(for connection: ConnectionID) -> SessionID? {
        connections[connection]
    }

    // MARK: Connection events

    /// A connection opened. `session` and `token` are fresh unguessable values from the edge.
    public mutating func connectionOpened(
        _ connection: ConnectionID, session: SessionID, token: String, address: ClientAddress, now: MonotonicTime
    ) -> [SignalingAction] {
        guard sessions.count < configuration.maximumSessions else {
            let error = SignalingError(.serverFull, "the server is at its session limit; try again later")
            return [.send(connection, OutboundMessage(seq: nil, message: .error(error))), .close(connection, error)]
        }
        sessions[session] = Session(
            id: session, token: token, address: address, connection: connection,
            bucket: TokenBucket(rate: configuration.messageRate, burst: configuration.messageBurst, now: now))
        connections[connection] = session
        tokens[token] = session
        return []
    }

    /// The connection dropped without a clean close: a session in a room waits out its grace period (a cluster node
    /// hands it to the directory instead, so the client may resume on any node).
    public mutating func connectionLost(_ connection: ConnectionID, now: MonotonicTime) -> [SignalingAction] {
        guard let id = connections.removeValue(forKey: connection), var session = sessions[id] else { return [] }
        guard session.room != nil else {
            return removeSession(id, reason: .closed)
        }
        if let actions = parkIfHandingOver(id, connectionLost: true) { return actions }
        session.connection = nil
        session.graceDeadline = now.advanced(by: configuration.gracePeriod)
        sessions[id] = session
        detachedSessions.insert(id)
        return []
    }

    /// The client closed its connection cleanly: it leaves at once, and its peers see `bye` now.
    /// While a cluster node drains, a client closing to reconnect elsewhere is handed over, not removed.
    public mutating func connectionClosed(_ connection: ConnectionID, now: MonotonicTime) -> [SignalingAction] {
        guard let id = connections.removeValue(forKey: connection) else { return [] }
        if let actions = parkIfHandingOver(id, connectionLost: false) { return actions }
        return removeSession(id, reason: .closed)
    }

    /// The edge could not decode a frame. Recoverable errors are answered; fatal ones also close.
    public mutating func invalidFrameReceived(
        _ error: SignalingError, on connection: ConnectionID, now: MonotonicTime
    ) -> [SignalingAction] {
        var actions = [SignalingAction.send(connection, OutboundMessage(seq: nil, message: .error(error)))]
        if error.code.isFatal {
            actions.append(.close(connection, error))
        }
        return actions
    }

    // MARK: Delivery

    /// Sends `message` to a session: sequenced messages enter its history (for resume) and, when it is
    /// connected, its connection.
    /// `size` is the message's estimated wire size when the caller already knows it (one broadcast, many recipients).
    mutating func deliver(_ message: ServerMessage, to id: SessionID, size: Int? = nil, actions: inout [SignalingAction]) {
        guard let index = sessions.index(forKey: id) else { return }
        // Mutate in place: copying the session out would copy its whole history on every message.
        let seq = sessions.values[index].nextSeq
        sessions.values[index].nextSeq += 1
        let outbound = OutboundMessage(seq: seq, message: message)
        sessions.values[index].history.append(
            outbound, size: size ?? message.estimatedWireSize, countLimit: configuration.historyLimit,
            byteLimit: configuration.historyByteLimit)
        if let connection = sessions.values[index].connection {
            actions.append(.send(connection, outbound))
        }
    }

    /// Answers a request directly on the connection, without a sequence number.
    func reply(_ message: ServerMessage, on connection: ConnectionID, actions: inout [SignalingAction]) {
        actions.append(.send(connection, OutboundMessage(seq: nil, message: message)))
    }

    /// Removes a session: out of its room (peers see `bye` with `reason`), its token forgotten.
    mutating func removeSession(_ id: SessionID, reason: ByeReason) -> [SignalingAction] {
        var actions: [SignalingAction] = []
        leaveRoom(id, reason: reason, actions: &actions)
        if let session = sessions.removeValue(forKey: id) {
            tokens.removeValue(forKey: session.token)
            if let connection = session.connection {
                connections.removeValue(forKey: connection)
            }
        }
        detachedSessions.remove(id)
        sessionsWithEarlyDeliveries.remove(id)
        return actions
    }

    /// Takes `id` out of its room, telling the others `bye`. An emptied room is deleted with its held messages.
    mutating func leaveRoom(_ id: SessionID, reason: ByeReason, actions: inout [SignalingAction]) {
        guard let roomName = sessions[id]?.room, var room = rooms[roomName] else { return }
        forgetNumbers(of: id, among: room.members, actions: &actions)
        sessions[id]?.room = nil
        membershipChanges.append(.left(session: id, room: roomName, reason: reason))
        room.members.removeAll { $0 == id }
        if room.members.isEmpty {
            rooms.removeValue(forKey: roomName)
            roomsWithHeldMessages.remove(roomName)
            return
        }
        // A held message's sender is the only member, so it is the one leaving: its messages go too.
        room.held.removeAll()
        roomsWithHeldMessages.remove(roomName)
        rooms[roomName] = room
        for member in room.members {
            deliver(.bye(room: roomName, id: id, reason: reason), to: member, actions: &actions)
        }
    }

    static func digest(_ password: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(password.utf8)))
    }
}

/// One session's state.
struct Session: Sendable {
    let id: SessionID
    let token: String
    let address: ClientAddress
    var connection: ConnectionID?
    var bucket: TokenBucket
    var room: RoomName?
    var name: String?
    /// From the join token: who this is, and whether it may publish media.
    var identity: String?
    var canPublish = true
    var nextSeq: UInt64 = 1
    var history = ResumeHistory()
    var graceDeadline: MonotonicTime?
    /// A room whose join awaits the cluster directory's answer.
    var pendingJoin: RoomName?
    /// Its resume of a session parked elsewhere awaits the directory's answer.
    var pendingResume = false
    /// The last number it gave a message to each peer, for pairs that ever crossed nodes (see ``Recipient``).
    var sentNumbers: [SessionID: UInt64] = [:]
    /// The last number delivered to it from each sender, in order.
    var receivedNumbers: [SessionID: UInt64] = [:]
    /// Numbered messages that arrived ahead of an earlier one from the same sender, oldest first.
    var early: [EarlyDelivery] = []

    init(id: SessionID, token: String, address: ClientAddress, connection: ConnectionID, bucket: TokenBucket) {
        self.id = id
        self.token = token
        self.address = address
        self.connection = connection
        self.bucket = bucket
    }

    var peerInfo: PeerInfo { PeerInfo(id: id, name: name, identity: identity, canPublish: canPublish) }
}

/// One room's state.
struct Room: Sendable {
    let name: RoomName
    let capacity: Int
    let passwordDigest: [UInt8]?
    var members: [SessionID] = []
    var held: Deque<HeldMessage> = []
}

/// A broadcast sent while its sender was alone, waiting for the next joiner.
struct HeldMessage: Sendable {
    let from: SessionID
    let data: JSONText
    let requestID: JSONValue?
    let expiresAt: MonotonicTime
}
