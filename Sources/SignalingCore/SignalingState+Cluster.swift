/// The core as one node of a cluster. Members served by other nodes sit in their rooms' member lists like local
/// ones, but their state (history, connection, rate limits) lives on their own node: what is delivered to them
/// leaves as ``SignalingAction/forward(_:_:)``, and their entries and exits arrive as the events below, in the
/// order the directory committed them.
extension SignalingState {
    /// The directory became reachable or was lost.
    public mutating func clusterStatusChanged(_ status: ClusterStatus) {
        clusterStatus = status
    }

    /// The room a session's join awaits the directory for, if any.
    public func pendingJoin(of id: SessionID) -> RoomName? {
        sessions[id]?.pendingJoin
    }

    /// A member another node serves (or the directory holds), as this node knows it.
    public func remoteMember(_ id: SessionID) -> RemoteMember? {
        remoteMembers[id]
    }

    /// Members of other nodes this node knows of.
    public var remoteMemberCount: Int { remoteMembers.count }

    /// This node's members of rooms, described as the directory lists them (`node` is this node).
    public func localMembers(on node: NodeID) -> [RemoteMember] {
        sessions.values.compactMap { session in
            guard let name = session.room, let room = rooms[name] else { return nil }
            return RemoteMember(peer: session.peerInfo, room: name, node: node, capacity: room.capacity)
        }
    }

    /// A join passed the local checks: the directory decides the rest.
    mutating func requestClusterJoin(
        _ join: JoinRequest, admission: JoinAdmission, requestID: JSONValue?, session id: SessionID,
        actions: inout [SignalingAction]
    ) {
        func fail(_ code: SignalingErrorCode, _ message: String) {
            guard let connection = sessions[id]?.connection else { return }
            reply(.error(SignalingError(code, message, requestType: "join", requestID: requestID)), on: connection, actions: &actions)
        }
        guard clusterStatus == .connected else {
            return fail(.clusterUnavailable, "the cluster directory is unreachable; try again shortly")
        }
        let capacity: Int
        if let stored = admission.storedRoom {
            capacity = stored.capacity ?? configuration.roomCapacity
        } else {
            capacity = join.capacity ?? configuration.roomCapacity
            guard capacity <= configuration.maximumRoomCapacity else {
                return fail(.invalidField, "field 'capacity' must be at most \(configuration.maximumRoomCapacity)")
            }
        }
        sessions[id]?.name = admission.name ?? join.name
        sessions[id]?.identity = admission.identity
        sessions[id]?.canPublish = admission.canPublish
        sessions[id]?.pendingJoin = join.room
        guard let peer = sessions[id]?.peerInfo else { return }
        actions.append(
            .clusterJoin(
                ClusterJoinRequest(
                    peer: peer, room: join.room, capacity: capacity,
                    passwordDigest: join.password.flatMap { $0.isEmpty ? nil : Self.digest($0) },
                    checksPassword: admission.storedRoom == nil, requestID: requestID, token: sessions[id]?.token ?? "")))
    }

    /// The directory admitted a join, and every change it committed before it has been applied here. A session
    /// that ended meanwhile is reported as having left, so the edge takes it out of the directory again.
    public mutating func clusterJoinAdmitted(_ id: SessionID, room name: RoomName, capacity: Int) -> [SignalingAction] {
        guard let session = sessions[id], session.pendingJoin == name, let connection = session.connection else {
            sessions[id]?.pendingJoin = nil
            membershipChanges.append(.left(session: id, room: name, reason: .closed))
            return []
        }
        sessions[id]?.pendingJoin = nil
        var actions: [SignalingAction] = []
        enter(id, into: rooms[name] ?? Room(name: name, capacity: capacity, passwordDigest: nil), connection: connection, actions: &actions)
        return actions
    }

    /// The directory refused a join (or could not be asked): the client gets `full` or the error.
    public mutating func clusterJoinRefused(_ request: ClusterJoinRequest, refusal: ClusterJoinRefusal) -> [SignalingAction] {
        let id = request.peer.id
        guard sessions[id]?.pendingJoin == request.room, let connection = sessions[id]?.connection else { return [] }
        sessions[id]?.pendingJoin = nil
        var actions: [SignalingAction] = []
        switch refusal {
        case .full(let capacity):
            reply(.full(room: request.room, capacity: capacity, requestID: request.requestID), on: connection, actions: &actions)
        case .error(let code, let message):
            let error = SignalingError(code, message, requestType: "join", requestID: request.requestID)
            reply(.error(error), on: connection, actions: &actions)
        }
        return actions
    }

    /// A member of another node entered a room: local members see `other_joined`; messages held for the next
    /// joiner go to it. Already known: nothing happens (events may repeat after a resynchronisation).
    public mutating func remoteMemberJoined(_ member: RemoteMember) -> [SignalingAction] {
        let id = member.peer.id
        guard remoteMembers[id] == nil, sessions[id] == nil else { return [] }
        remoteMembers[id] = member
        var room = rooms[member.room] ?? Room(name: member.room, capacity: member.capacity, passwordDigest: nil)
        let locals = room.members.filter { sessions[$0] != nil }
        let held = room.held
        room.held.removeAll()
        room.members.append(id)
        rooms[member.room] = room
        roomsWithHeldMessages.remove(member.room)
        var actions: [SignalingAction] = []
        for local in locals {
            deliver(.otherJoined(room: member.room, peer: member.peer), to: local, actions: &actions)
        }
        for message in held {
            let recipient = number(from: message.from, to: id, crossing: true)
            actions.append(.forward(member.node, .copy(room: member.room, from: message.from, to: recipient, data: message.data)))
        }
        return actions
    }

    /// A member left a room through the directory. A remote member's local peers see `bye`; a local member
    /// evicted by a join of the same identity on another node is told why and closed.
    public mutating func remoteMemberLeft(_ id: SessionID, room: RoomName, reason: ByeReason) -> [SignalingAction] {
        if let remote = remoteMembers[id] {
            guard remote.room == room else { return [] }
            var actions: [SignalingAction] = []
            removeRemoteMember(id, reason: reason, actions: &actions)
            return actions
        }
        guard reason == .evicted, sessions[id]?.room == room else { return [] }
        var actions: [SignalingAction] = []
        evict(id, actions: &actions)
        return actions
    }

    /// A relayed message arrived from another node. Recipients this node serves get it; one that moved on since
    /// the sender routed it (handed over by a draining node, resumed elsewhere) is forwarded to where it is now.
    public mutating func remoteDeliveryReceived(_ delivery: RemoteDelivery, now: MonotonicTime) -> [SignalingAction] {
        var actions: [SignalingAction] = []
        switch delivery {
        case .direct(let room, _, let to, _), .copy(let room, _, let to, _):
            guard isMember(to.id, of: room) else { break }
            route(delivery, to: to.id, now: now, actions: &actions)
        case .broadcast(let room, let from, let data, let recipients):
            for recipient in recipients where recipient.id != from && isMember(recipient.id, of: room) {
                route(.copy(room: room, from: from, to: recipient, data: data), to: recipient.id, now: now, actions: &actions)
            }
        }
        return actions
    }

    private func isMember(_ id: SessionID, of room: RoomName) -> Bool {
        sessions[id]?.room == room || remoteMembers[id]?.room == room
    }

    /// Delivers a single-recipient message wherever `id` is served: here (in its sender's order), another node,
    /// or a parked session's mailbox.
    mutating func route(_ delivery: RemoteDelivery, to id: SessionID, now: MonotonicTime, actions: inout [SignalingAction]) {
        if sessions[id] != nil {
            accept(delivery, to: id, now: now, actions: &actions)
        } else if let remote = remoteMembers[id] {
            actions.append(.forward(remote.node, delivery))
        }
    }

    /// A broadcast from `sender` to the other `members` of a room: local ones directly, one copy per other node
    /// naming the members it serves there, and one per parked member into its mailbox.
    mutating func broadcast(
        _ data: JSONText, in room: RoomName, members: [SessionID], from sender: SessionID, now: MonotonicTime,
        actions: inout [SignalingAction]
    ) {
        // A single node has no remote members and numbers nothing: skip the lookups on its hot path.
        let numbered = !(sessions[sender]?.sentNumbers.isEmpty ?? true)
        let size = ServerMessage.message(room: room, from: sender, to: nil, data: data).estimatedWireSize
        var nodes: [(node: NodeID, members: [Recipient])] = []
        for member in members where member != sender {
            guard let remote = remoteMembers.isEmpty ? nil : remoteMembers[member] else {
                if numbered {
                    let recipient = number(from: sender, to: member, crossing: false)
                    accept(.copy(room: room, from: sender, to: recipient, data: data), to: member, now: now, actions: &actions)
                } else {
                    deliver(.message(room: room, from: sender, to: nil, data: data), to: member, size: size, actions: &actions)
                }
                continue
            }
            let recipient = number(from: sender, to: member, crossing: true)
            if remote.node == .parked {
                actions.append(.forward(.parked, .copy(room: room, from: sender, to: recipient, data: data)))
            } else if let index = nodes.firstIndex(where: { $0.node == remote.node }) {
                nodes[index].members.append(recipient)
            } else {
                nodes.append((remote.node, [recipient]))
            }
        }
        for (node, recipients) in nodes {
            actions.append(.forward(node, .broadcast(room: room, from: sender, data: data, to: recipients)))
        }
    }

    // MARK: Hand-over

    /// A cluster node hands a session in a room to the directory when its connection drops (the client may come
    /// back through any node) and, while draining, when it closes too (this process is about to stop). `nil` when
    /// that does not apply: standalone, or the directory away (the session then waits out its grace here).
    mutating func parkIfHandingOver(_ id: SessionID, connectionLost: Bool) -> [SignalingAction]? {
        guard clusterStatus != .standalone, sessions[id]?.room != nil else { return nil }
        guard isDraining || (connectionLost && clusterStatus == .connected) else { return nil }
        var actions: [SignalingAction] = []
        park(id, actions: &actions)
        return actions
    }

    /// The drain is over: every session still in a room is handed to the directory, to be resumed on another node.
    public mutating func parkAll() -> [SignalingAction] {
        guard clusterStatus != .standalone else { return [] }
        var actions: [SignalingAction] = []
        for (id, session) in sessions where session.room != nil {
            park(id, actions: &actions)
        }
        return actions
    }

    private mutating func park(_ id: SessionID, actions: inout [SignalingAction]) {
        guard let session = sessions.removeValue(forKey: id), let name = session.room, let room = rooms[name] else { return }
        tokens.removeValue(forKey: session.token)
        if let connection = session.connection { connections.removeValue(forKey: connection) }
        detachedSessions.remove(id)
        sessionsWithEarlyDeliveries.remove(id)
        // Peers keep it as a member: what is sent to it meanwhile waits in the directory's mailbox.
        remoteMembers[id] = RemoteMember(peer: session.peerInfo, room: name, node: .parked, capacity: room.capacity)
        actions.append(
            .park(
                ParkedSession(
                    peer: session.peerInfo, token: session.token, room: name, capacity: room.capacity, nextSeq: session.nextSeq,
                    history: session.history.all, sent: session.sentNumbers, received: session.receivedNumbers,
                    early: session.early.map(\.delivery))))
    }

    /// A resume through another node names a session this node serves (its client came back elsewhere before
    /// this node noticed its connection drop): the old connection is closed with `replaced` and the session
    /// handed to the directory, where that node claims it.
    public mutating func handOverRequested(_ id: SessionID) -> [SignalingAction] {
        guard let session = sessions[id], session.room != nil else { return [] }
        var actions: [SignalingAction] = []
        if let connection = session.connection {
            let error = SignalingError(.replaced, "this session was resumed through another node")
            reply(.error(error), on: connection, actions: &actions)
            actions.append(.close(connection, error))
        }
        park(id, actions: &actions)
        return actions
    }

    /// A member moved: parked by its draining node, or resumed on another one.
    public mutating func remoteMemberMoved(_ id: SessionID, room: RoomName, to node: NodeID) {
        guard remoteMembers[id]?.room == room else { return }
        remoteMembers[id]?.node = node
    }

    /// The directory gave this node a parked session (its own `moved` notice has come back, so every change before
    /// it has been applied): it becomes local, with what its mailbox held appended to its history, and the
    /// connection that asked resumes it as from this node's own grace period.
    public mutating func clusterResumeClaimed(
        _ request: ClusterResumeRequest, parked: ParkedSession, mailbox: [RemoteDelivery], now: MonotonicTime
    ) -> [SignalingAction] {
        let id = parked.peer.id
        remoteMembers.removeValue(forKey: id)
        var room = rooms[parked.room] ?? Room(name: parked.room, capacity: parked.capacity, passwordDigest: nil)
        if !room.members.contains(id) { room.members.append(id) }
        rooms[parked.room] = room
        let fresh = sessions[request.session]
        var session = Session(
            id: id, token: parked.token, address: fresh?.address ?? ClientAddress("unknown"), connection: ConnectionID(0),
            bucket: fresh?.bucket ?? TokenBucket(rate: configuration.messageRate, burst: configuration.messageBurst, now: now))
        session.connection = nil  // in grace until the connection that asked takes it over below
        session.room = parked.room
        session.name = parked.peer.name
        session.identity = parked.peer.identity
        session.canPublish = parked.peer.canPublish
        session.nextSeq = parked.nextSeq
        session.history = ResumeHistory(parked.history)
        session.sentNumbers = parked.sent
        session.receivedNumbers = parked.received
        session.graceDeadline = now.advanced(by: configuration.gracePeriod)
        sessions[id] = session
        tokens[parked.token] = id
        detachedSessions.insert(id)
        var actions: [SignalingAction] = []
        // What waited out of order on the old node, then the mailbox: each sender's in number order.
        for delivery in parked.early + mailbox {
            accept(delivery, to: id, now: now, actions: &actions)
        }
        guard let fresh, fresh.pendingResume, let connection = fresh.connection else { return actions }
        sessions[request.session]?.pendingResume = false
        membershipChanges.append(.entered(session: id, room: parked.room, name: parked.peer.name, connection: connection))
        handleResume(
            token: parked.token, lastSeq: request.lastSeq, requestID: request.requestID, session: request.session,
            connection: connection, actions: &actions)
        return actions
    }

    /// The directory holds no session for a resume token.
    public mutating func clusterResumeRefused(_ request: ClusterResumeRequest) -> [SignalingAction] {
        guard sessions[request.session]?.pendingResume == true, let connection = sessions[request.session]?.connection else {
            return []
        }
        sessions[request.session]?.pendingResume = false
        var actions: [SignalingAction] = []
        let error = SignalingError(
            .resumeFailed, "unknown resume token, or its grace period has ended", requestType: "resume", requestID: request.requestID)
        reply(.error(error), on: connection, actions: &actions)
        return actions
    }

    /// A node was declared dead: its members leave their rooms, and local peers see `bye` (timeout).
    public mutating func nodeDown(_ node: NodeID) -> [SignalingAction] {
        var actions: [SignalingAction] = []
        for (id, member) in remoteMembers where member.node == node {
            removeRemoteMember(id, reason: .timeout, actions: &actions)
        }
        return actions
    }

    /// The directory was read afresh (after its connection was lost): remote members become exactly `members`
    /// (other nodes' only). Those gone leave with `bye` (timeout); new ones arrive with `other_joined`.
    public mutating func clusterResynchronized(_ members: [RemoteMember]) -> [SignalingAction] {
        var fresh: [SessionID: RemoteMember] = [:]
        for member in members { fresh[member.peer.id] = member }
        var actions: [SignalingAction] = []
        for (id, known) in remoteMembers where fresh[id].map({ $0.room != known.room || $0.node != known.node }) ?? true {
            removeRemoteMember(id, reason: .timeout, actions: &actions)
        }
        for member in members {
            actions += remoteMemberJoined(member)
        }
        return actions
    }

    private mutating func removeRemoteMember(_ id: SessionID, reason: ByeReason, actions: inout [SignalingAction]) {
        guard let member = remoteMembers.removeValue(forKey: id), var room = rooms[member.room] else { return }
        forgetNumbers(of: id, among: room.members, actions: &actions)
        room.members.removeAll { $0 == id }
        if room.members.isEmpty {
            rooms.removeValue(forKey: member.room)
            roomsWithHeldMessages.remove(member.room)
            return
        }
        rooms[member.room] = room
        for other in room.members where sessions[other] != nil {
            deliver(.bye(room: member.room, id: id, reason: reason), to: other, actions: &actions)
        }
    }
}
