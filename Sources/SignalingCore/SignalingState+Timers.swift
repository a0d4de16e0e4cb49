extension SignalingState {
    /// Periodic tick: expires held messages (telling their senders), ends sessions whose grace period
    /// is over (their peers see `bye`), gives up gaps in relayed messages waited on too long, and forgets idle per-address join buckets.
    public mutating func timerFired(now: MonotonicTime) -> [SignalingAction] {
        var actions: [SignalingAction] = []
        for roomName in roomsWithHeldMessages {
            guard var room = rooms[roomName] else { continue }
            var expired: [HeldMessage] = []
            while let first = room.held.first, first.expiresAt <= now {
                expired.append(room.held.removeFirst())
            }
            if room.held.isEmpty { roomsWithHeldMessages.remove(roomName) }
            rooms[roomName] = room
            for message in expired {
                let error = SignalingError(
                    .heldMessageExpired, "no peer joined room '\(roomName)' before the message expired",
                    requestType: "message", requestID: message.requestID)
                deliver(.error(error), to: message.from, actions: &actions)
            }
        }
        for id in detachedSessions {
            guard let deadline = sessions[id]?.graceDeadline, deadline <= now else { continue }
            actions += removeSession(id, reason: .timeout)
        }
        releaseOverdueDeliveries(now: now, actions: &actions)
        joinBuckets = joinBuckets.filter { !$0.value.isFull(at: now) }
        return actions
    }
}
