extension SignalingState {
    /// Handles `resume`: the connection takes over the session that `token` names and receives every
    /// sequenced message after `lastSeq`. The connection's own fresh session is discarded.
    mutating func handleResume(
        token: String, lastSeq: UInt64, requestID: JSONValue?, session freshID: SessionID, connection: ConnectionID,
        actions: inout [SignalingAction]
    ) {
        func fail(_ code: SignalingErrorCode, _ message: String) {
            reply(.error(SignalingError(code, message, requestType: "resume", requestID: requestID)), on: connection, actions: &actions)
        }
        guard sessions[freshID]?.room == nil else {
            return fail(.alreadyInRoom, "resume must come before any join on a connection")
        }
        // Told to reconnect elsewhere: a resume here would only be cut off when the drain ends.
        if isDraining { return fail(.serverDraining, "this server is shutting down; join through another node") }
        guard let targetID = tokens[token], targetID != freshID, var target = sessions[targetID] else {
            if clusterStatus == .connected, tokens[token] == nil, sessions[freshID]?.pendingResume == false {
                // Perhaps a session a draining node handed over: the directory knows.
                sessions[freshID]?.pendingResume = true
                actions.append(.clusterResume(ClusterResumeRequest(token: token, lastSeq: lastSeq, session: freshID, requestID: requestID)))
                return
            }
            return fail(.resumeFailed, "unknown resume token, or its grace period has ended")
        }
        guard lastSeq < target.nextSeq else {
            return fail(.invalidField, "field 'last_seq' is beyond the last message sent (\(target.nextSeq - 1))")
        }
        let firstKept = target.history.first?.seq ?? target.nextSeq
        guard lastSeq + 1 >= firstKept else {
            // Messages the client missed are gone: resuming would silently lose them. End the session.
            actions += removeSession(targetID, reason: .removed)
            return fail(.resumeGap, "messages after \(lastSeq) are no longer held; join again")
        }
        if let old = target.connection {
            let error = SignalingError(.replaced, "this session was resumed on another connection")
            reply(.error(error), on: old, actions: &actions)
            actions.append(.close(old, error))
            connections.removeValue(forKey: old)
        }
        // The fresh session never joined anything: forget it and bind the connection to the target.
        if let fresh = sessions.removeValue(forKey: freshID) {
            tokens.removeValue(forKey: fresh.token)
        }
        target.connection = connection
        target.graceDeadline = nil
        target.history.removeThrough(seq: lastSeq)
        sessions[targetID] = target
        connections[connection] = targetID
        detachedSessions.remove(targetID)
        let peers = target.room.flatMap { rooms[$0] }?.members.filter { $0 != targetID }.compactMap { peerInfo(of: $0) } ?? []
        reply(.resumed(room: target.room, id: targetID, peers: peers, lastSeq: lastSeq), on: connection, actions: &actions)
        if !target.history.isEmpty {
            actions.append(.replay(connection, target.history.all))
        }
    }
}
