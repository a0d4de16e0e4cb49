import SignalingCore

/// The hub's link to the other nodes of a cluster (the Cluster target implements it over PostgreSQL).
///
/// The hub calls it from its actor and must not wait: an implementation queues and returns.
public protocol ClusterLink: Sendable {
    /// Asks the directory to admit a join; the answer comes back through ``SignalingHub/clusterReceived(_:)``
    /// (admitted) or ``SignalingHub/clusterJoinRefused(_:refusal:)``. `false` when the link has stopped.
    func requestJoin(_ request: ClusterJoinRequest) -> Bool
    /// Asks the directory for a session parked by another node; the answer comes back through
    /// ``SignalingHub/clusterReceived(_:)`` (claimed) or ``SignalingHub/clusterResumeRefused(_:)``. `false` when the
    /// link has stopped.
    func requestResume(_ request: ClusterResumeRequest) -> Bool
    /// Publishes to the other nodes, after everything this node published before.
    func publish(_ publication: ClusterPublication)
}

/// What a node tells the others, in order.
public enum ClusterPublication: Equatable, Sendable {
    /// A local member left its room.
    case left(SessionID, room: RoomName, reason: ByeReason)
    /// A relayed message for members that `node` serves (or for a parked session's mailbox).
    case delivery(NodeID, RemoteDelivery)
    /// A local session handed to the directory while this node drains.
    case park(ParkedSession)
    /// An administrator here removed a member that `node` serves (or the directory holds, ``NodeID/parked``).
    case kick(SessionID, room: RoomName, node: NodeID)
}

/// What the directory tells a node, in the order it was committed.
public enum ClusterEvent: Equatable, Sendable {
    /// A join this node asked for was admitted (and every earlier change has been applied).
    case joinAdmitted(SessionID, room: RoomName, capacity: Int)
    /// Another node's member entered a room.
    case memberJoined(RemoteMember)
    /// A member left a room (or was evicted by a join of the same identity).
    case memberLeft(SessionID, room: RoomName, reason: ByeReason)
    /// A relayed message for this node's members.
    case delivery(RemoteDelivery)
    /// A member moved: parked by its draining node, or resumed on another.
    case memberMoved(SessionID, room: RoomName, node: NodeID)
    /// A resume this node asked for claimed a parked session, with what its mailbox held.
    case resumeClaimed(ClusterResumeRequest, ParkedSession, mailbox: [RemoteDelivery])
    /// An administrator on another node removed a member this node serves.
    case kick(SessionID)
    /// A resume through another node names a session this node serves: hand it to the directory.
    case handOver(SessionID)
    /// A node stopped heartbeating and was declared dead.
    case nodeDown(NodeID)
}
