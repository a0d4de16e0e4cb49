extension SignalingState {
    /// A connection sent a well-formed request.
    public mutating func requestReceived(
        _ request: ClientRequest, on connection: ConnectionID, now: MonotonicTime
    ) -> [SignalingAction] {
        guard let id = connections[connection], let index = sessions.index(forKey: id) else { return [] }
        var actions: [SignalingAction] = []
        // Every request spends a token, so no request type can be used to flood the server.
        guard sessions.values[index].bucket.take(now: now) else {
            let error = SignalingError(
                .rateLimited, "more than \(configuration.messageRate) requests per second",
                requestType: request.message.type, requestID: request.id)
            reply(.error(error), on: connection, actions: &actions)
            actions.append(.close(connection, error))
            return actions
        }
        switch request.message {
        case .join(let join):
            handleJoin(join, requestID: request.id, session: id, connection: connection, now: now, actions: &actions)
        case .leave:
            handleLeave(requestID: request.id, session: id, connection: connection, actions: &actions)
        case .message(let to, let data):
            handleMessage(
                to: to, data: data, requestID: request.id, session: id, connection: connection, now: now,
                actions: &actions)
        case .ping(let ack):
            if let ack {
                sessions[id]?.history.removeThrough(seq: ack)
            }
            reply(.pong(requestID: request.id), on: connection, actions: &actions)
        case .resume(let token, let lastSeq):
            handleResume(
                token: token, lastSeq: lastSeq, requestID: request.id, session: id, connection: connection,
                actions: &actions)
        }
        return actions
    }

    private mutating func handleJoin(
        _ join: JoinRequest, requestID: JSONValue?, session id: SessionID, connection: ConnectionID,
        now: MonotonicTime, actions: inout [SignalingAction]
    ) {
        func fail(_ code: SignalingErrorCode, _ message: String) {
            reply(.error(SignalingError(code, message, requestType: "join", requestID: requestID)), on: connection, actions: &actions)
        }
        guard let session = sessions[id] else { return }
        if let current = session.room {
            return fail(.alreadyInRoom, "already in room '\(current)'; send leave first")
        }
        if let pending = session.pendingJoin {
            return fail(.alreadyInRoom, "a join of room '\(pending)' is in progress")
        }
        if session.pendingResume { return fail(.alreadyInRoom, "a resume is in progress") }
        // Joins are limited per address before any password check, so passwords cannot be guessed quickly.
        var bucket =
            joinBuckets[session.address]
            ?? TokenBucket(rate: configuration.joinRate, burst: configuration.joinBurst, now: now)
        let admitted = bucket.take(now: now)
        joinBuckets[session.address] = bucket
        guard admitted else {
            let error = SignalingError(
                .joinRateLimited, "more than \(configuration.joinRate) joins per second from this address",
                requestType: "join", requestID: requestID)
            reply(.error(error), on: connection, actions: &actions)
            actions.append(.close(connection, error))
            return
        }
        if isDraining { return fail(.serverDraining, "this server is shutting down; join through another node") }
        let admission = join.admission ?? JoinAdmission()
        if let refusal = admission.refusal { return fail(refusal.code, refusal.message) }
        if admission.storedRoom?.isLocked == true { return fail(.roomLocked, "room '\(join.room)' is locked") }
        if clusterStatus != .standalone {
            return requestClusterJoin(join, admission: admission, requestID: requestID, session: id, actions: &actions)
        }
        // The same identity again (a reload, a second device): the older session goes, so its peers see `bye` at
        // once rather than a ghost that lingers until its grace period ends. Only once the join is sure to succeed.
        let replaced: [SessionID] =
            admission.identity.map { identity in
                (rooms[join.room]?.members ?? []).filter { $0 != id && sessions[$0]?.identity == identity }
            } ?? []
        var room: Room
        if let existing = rooms[join.room] {
            room = existing
            // A stored room's password was checked against its slow hash at the edge.
            if admission.storedRoom == nil, let digest = room.passwordDigest {
                guard let password = join.password else {
                    return fail(.passwordRequired, "room '\(join.room)' requires a password")
                }
                guard constantTimeEqual(Self.digest(password), digest) else {
                    return fail(.wrongPassword, "wrong password for room '\(join.room)'")
                }
            }
            guard room.members.count - replaced.count < room.capacity else {
                reply(.full(room: join.room, capacity: room.capacity, requestID: requestID), on: connection, actions: &actions)
                return
            }
        } else if let stored = admission.storedRoom {
            room = Room(name: join.room, capacity: stored.capacity ?? configuration.roomCapacity, passwordDigest: nil)
        } else {
            let capacity = join.capacity ?? configuration.roomCapacity
            guard capacity <= configuration.maximumRoomCapacity else {
                return fail(.invalidField, "field 'capacity' must be at most \(configuration.maximumRoomCapacity)")
            }
            room = Room(
                name: join.room, capacity: capacity,
                passwordDigest: join.password.flatMap { $0.isEmpty ? nil : Self.digest($0) })
        }
        if !replaced.isEmpty {
            for member in replaced { evict(member, actions: &actions) }
            // The evictions changed the room (or emptied and deleted it): carry on from its current state.
            room.members = rooms[join.room]?.members ?? []
            room.held = rooms[join.room]?.held ?? []
        }
        sessions[id]?.name = admission.name ?? join.name
        sessions[id]?.identity = admission.identity
        sessions[id]?.canPublish = admission.canPublish
        enter(id, into: room, connection: connection, actions: &actions)
    }

    /// Puts an admitted session into `room` (whose members are current): it gets `joined` and the messages held
    /// for the next joiner, its local peers `other_joined`.
    mutating func enter(_ id: SessionID, into room: Room, connection: ConnectionID, actions: inout [SignalingAction]) {
        var room = room
        let peers = room.members.compactMap { peerInfo(of: $0) }
        room.members.append(id)
        let held = room.held
        room.held.removeAll()
        rooms[room.name] = room
        roomsWithHeldMessages.remove(room.name)
        sessions[id]?.room = room.name
        membershipChanges.append(.entered(session: id, room: room.name, name: joinedName(id), connection: connection))
        let joined = sessions[id]!
        deliver(
            .joined(room: room.name, id: id, peers: peers, capacity: room.capacity, token: joined.token),
            to: id, actions: &actions)
        for peer in peers {
            deliver(.otherJoined(room: room.name, peer: joined.peerInfo), to: peer.id, actions: &actions)
        }
        for message in held {
            deliver(.message(room: room.name, from: message.from, to: nil, data: message.data), to: id, actions: &actions)
        }
    }

    private mutating func handleLeave(
        requestID: JSONValue?, session id: SessionID, connection: ConnectionID, actions: inout [SignalingAction]
    ) {
        guard let room = sessions[id]?.room else {
            let error = SignalingError(.notInRoom, "not in a room", requestType: "leave", requestID: requestID)
            reply(.error(error), on: connection, actions: &actions)
            return
        }
        leaveRoom(id, reason: .left, actions: &actions)
        deliver(.left(room: room), to: id, actions: &actions)
    }

    private mutating func handleMessage(
        to: SessionID?, data: JSONText, requestID: JSONValue?, session id: SessionID, connection: ConnectionID,
        now: MonotonicTime, actions: inout [SignalingAction]
    ) {
        func fail(_ code: SignalingErrorCode, _ message: String) {
            reply(.error(SignalingError(code, message, requestType: "message", requestID: requestID)), on: connection, actions: &actions)
        }
        guard let roomName = sessions[id]?.room, var room = rooms[roomName] else {
            return fail(.notInRoom, "join a room before sending messages")
        }
        if let to {
            guard to != id, room.members.contains(to) else {
                return fail(.unknownPeer, "'\(to.rawValue.prefix(128))' is not another member of room '\(roomName)'")
            }
            let recipient = number(from: id, to: to, crossing: remoteMembers[to] != nil)
            route(.direct(room: roomName, from: id, to: recipient, data: data), to: to, now: now, actions: &actions)
            return
        }
        guard room.members.count == 1 else {
            broadcast(data, in: roomName, members: room.members, from: id, now: now, actions: &actions)
            return
        }
        // Alone: hold the message for the next member, in order, for a bounded time.
        guard room.held.count < configuration.heldMessageLimit else {
            return fail(.heldQueueFull, "\(configuration.heldMessageLimit) messages already wait for a peer to join")
        }
        room.held.append(
            HeldMessage(from: id, data: data, requestID: requestID, expiresAt: now.advanced(by: configuration.heldMessageTTL)))
        rooms[roomName] = room
        roomsWithHeldMessages.insert(roomName)
    }
}

/// Compares two digests without an early exit, so timing reveals nothing about where they differ.
public func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices {
        difference |= lhs[index] ^ rhs[index]
    }
    return difference == 0
}

extension SignalingState {
    func joinedName(_ id: SessionID) -> String? { sessions[id]?.name }

    /// Ends an older session of an identity that joined again: it is told why and closed, and leaves at once
    /// (no grace period: the same person is already back).
    mutating func evict(_ id: SessionID, actions: inout [SignalingAction]) {
        if let connection = sessions[id]?.connection {
            let error = SignalingError(.duplicateIdentity, "the same identity joined this room from another connection")
            reply(.error(error), on: connection, actions: &actions)
            actions.append(.close(connection, error))
        }
        actions += removeSession(id, reason: .evicted)
    }
}
