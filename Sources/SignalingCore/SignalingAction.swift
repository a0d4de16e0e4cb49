/// What the edge must do after the core handled an event.
public enum SignalingAction: Equatable, Sendable {
    /// Write `message` to `connection`, in the order given.
    case send(ConnectionID, OutboundMessage)
    /// Write a resumed session's missed messages, in order. They are already bounded by the history
    /// limit, so they do not count against the connection's live queue bound.
    case replay(ConnectionID, [OutboundMessage])
    /// Close `connection` after the messages before this action; with a policy code when `error` is fatal.
    case close(ConnectionID, SignalingError?)
    /// Ask the cluster directory to admit a join; its answer comes back as ``SignalingState/clusterJoinAdmitted(_:room:now:)``
    /// or ``SignalingState/clusterJoinRefused(_:refusal:)``.
    case clusterJoin(ClusterJoinRequest)
    /// Hand a relayed message to another node (or to a parked session's mailbox, ``NodeID/parked``), after
    /// everything this node published before it.
    case forward(NodeID, RemoteDelivery)
    /// Hand a session to the directory (this node is draining); its peers keep seeing it as a member.
    case park(ParkedSession)
    /// Ask the directory for a session parked by another node; the answer comes back as
    /// ``SignalingState/clusterResumeClaimed(_:parked:mailbox:)`` or ``SignalingState/clusterResumeRefused(_:)``.
    case clusterResume(ClusterResumeRequest)
}
