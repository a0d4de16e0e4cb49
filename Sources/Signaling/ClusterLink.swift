import SignalingCore

/// The hub's link to the other nodes of a cluster (the Cluster target implements it over PostgreSQL).
///
/// The hub calls it from its actor and must not wait: an implementation queues and returns.
public protocol ClusterLink: Sendable {
    /// Asks the directory to admit a join; the answer comes back through ``SignalingHub/clusterReceived(_:)``
    /// (admitted) or ``SignalingHub/clusterJoinRefused(_:refusal:)``. `false` when the link has stopped.
    func requestJoin(_ request: ClusterJoinRequest) -> Bool
    /// Publishes to the other nodes, after everything this node published before.
    func publish(_ publication: ClusterPublication)
}

/// What a node tells the others, in order.
public enum ClusterPublication: Equatable, Sendable {
    /// A local member left its room.
    case left(SessionID, room: RoomName, reason: ByeReason)
    /// A relayed message for members that `node` serves.
    case delivery(NodeID, RemoteDelivery)
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
    /// A node stopped heartbeating and was declared dead.
    case nodeDown(NodeID)
}
