/// A room as the admin API lists it.
public struct RoomSummary: Equatable, Sendable {
    /// The room name.
    public var name: RoomName
    /// Members admitted at once.
    public var capacity: Int
    /// Whether joining needs a password set by its creator.
    public var hasPassword: Bool
    /// Its members in join order (connected or in their grace period), on every node.
    public var members: [PeerInfo]
    /// The node serving each member that another node of the cluster serves.
    public var nodes: [SessionID: NodeID] = [:]
}

extension SignalingState {
    /// Every room with members, by name.
    public var roomSummaries: [RoomSummary] {
        rooms.values.map { room in
            RoomSummary(
                name: room.name, capacity: room.capacity, hasPassword: room.passwordDigest != nil,
                members: room.members.compactMap { peerInfo(of: $0) },
                nodes: room.members.reduce(into: [:]) { nodes, id in nodes[id] = remoteMembers[id]?.node })
        }.sorted { $0.name.rawValue < $1.name.rawValue }
    }

    /// An administrator removed a session (kick): it is told why and closed, and its peers see `bye` (removed)
    /// at once. `nil` when there is no such session.
    public mutating func sessionRemoved(_ id: SessionID, error: SignalingError) -> [SignalingAction]? {
        guard let session = sessions[id] else { return nil }
        var actions: [SignalingAction] = []
        if let connection = session.connection {
            reply(.error(error), on: connection, actions: &actions)
            actions.append(.close(connection, error))
        }
        return actions + removeSession(id, reason: .removed)
    }

    /// An administrator closed a room: every member is removed as by ``sessionRemoved(_:error:)``.
    /// `nil` when the room does not exist.
    public mutating func roomClosed(_ name: RoomName) -> [SignalingAction]? {
        guard let room = rooms[name] else { return nil }
        let error = SignalingError(.roomClosed, "room '\(name)' was closed by an administrator")
        return room.members.flatMap { sessionRemoved($0, error: error) ?? [] }
    }
}

extension SignalingState {
    /// Shutdown began: every connected session is told to reconnect elsewhere within `within` seconds, and joins
    /// are refused from now on.
    public mutating func drainStarted(within: Int) -> [SignalingAction] {
        isDraining = true
        var actions: [SignalingAction] = []
        for session in sessions.values {
            guard let connection = session.connection else { continue }
            reply(.reconnect(within: within), on: connection, actions: &actions)
        }
        return actions
    }
}
