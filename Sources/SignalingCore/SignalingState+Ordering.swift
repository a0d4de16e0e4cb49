/// Per-sender order across nodes. A message to a member that moved between nodes can travel two paths: routed to
/// its old node before the sender's node heard of the move (that node passes it on), or straight to where the
/// member is now. Each pair that ever crossed nodes numbers its messages (``Recipient/seq``); the recipient's
/// node delivers each sender's numbered messages in number order, holding one that arrives early for a bounded
/// time.
extension SignalingState {
    /// The recipient `id` of a message from the local session `sender`: numbered when the message leaves this node
    /// (`crossing`) or the pair was numbered before, so messages still on their way keep their place.
    mutating func number(from sender: SessionID, to id: SessionID, crossing: Bool) -> Recipient {
        guard let index = sessions.index(forKey: sender) else { return Recipient(id) }
        let last = sessions.values[index].sentNumbers[id]
        guard crossing || last != nil else { return Recipient(id) }
        let next = (last ?? 0) + 1
        sessions.values[index].sentNumbers[id] = next
        return Recipient(id, seq: next)
    }

    /// Delivers a single-recipient message to the local session `id` in its sender's number order: one ahead of an
    /// earlier one waits for it, at most ``SignalingConfiguration/reorderWait``.
    mutating func accept(_ delivery: RemoteDelivery, to id: SessionID, now: MonotonicTime, actions: inout [SignalingAction]) {
        guard let seq = delivery.recipient?.seq, seq != 0, let index = sessions.index(forKey: id) else {
            return deliver(delivery.message(for: id), to: id, actions: &actions)
        }
        let sender = delivery.sender
        let last = sessions.values[index].receivedNumbers[sender] ?? 0
        guard seq <= last + 1 else {
            sessions.values[index].early.append(EarlyDelivery(delivery: delivery, arrivedAt: now))
            sessionsWithEarlyDeliveries.insert(id)
            if sessions.values[index].early.count > configuration.reorderLimit, let oldest = sessions.values[index].early.first {
                skipGap(from: oldest.delivery.sender, of: id, actions: &actions)
            }
            return
        }
        deliver(delivery.message(for: id), to: id, actions: &actions)
        // One at or below the last delivered arrived after its gap was given up: late, but not lost.
        guard seq == last + 1 else { return }
        sessions[id]?.receivedNumbers[sender] = seq
        deliverFollowing(from: sender, to: id, actions: &actions)
    }

    /// Delivers the waiting messages from `sender` that are next in order.
    private mutating func deliverFollowing(from sender: SessionID, to id: SessionID, actions: inout [SignalingAction]) {
        while let session = sessions[id], !session.early.isEmpty {
            let next = (session.receivedNumbers[sender] ?? 0) + 1
            guard let position = session.early.firstIndex(where: { $0.delivery.sender == sender && $0.delivery.recipient?.seq == next })
            else { break }
            let waiting = sessions[id]!.early.remove(at: position)
            sessions[id]?.receivedNumbers[sender] = next
            deliver(waiting.delivery.message(for: id), to: id, actions: &actions)
        }
        if sessions[id]?.early.isEmpty ?? true { sessionsWithEarlyDeliveries.remove(id) }
    }

    /// Gives up waiting for what precedes the earliest waiting message from `sender` (taken as lost): it is
    /// delivered, and those that follow it in order.
    private mutating func skipGap(from sender: SessionID, of id: SessionID, actions: inout [SignalingAction]) {
        guard let session = sessions[id] else { return }
        var earliest: (position: Int, seq: UInt64)?
        for (position, entry) in session.early.enumerated() where entry.delivery.sender == sender {
            let seq = entry.delivery.recipient?.seq ?? 0
            if earliest.map({ seq < $0.seq }) ?? true { earliest = (position, seq) }
        }
        guard let earliest else { return }
        let entry = sessions[id]!.early.remove(at: earliest.position)
        deliver(entry.delivery.message(for: id), to: id, actions: &actions)
        if earliest.seq > session.receivedNumbers[sender] ?? 0 { sessions[id]?.receivedNumbers[sender] = earliest.seq }
        deliverFollowing(from: sender, to: id, actions: &actions)
    }

    /// The tick: gaps older than ``SignalingConfiguration/reorderWait`` are given up.
    mutating func releaseOverdueDeliveries(now: MonotonicTime, actions: inout [SignalingAction]) {
        for id in sessionsWithEarlyDeliveries {
            while let oldest = sessions[id]?.early.first, oldest.arrivedAt.advanced(by: configuration.reorderWait) <= now {
                skipGap(from: oldest.delivery.sender, of: id, actions: &actions)
            }
        }
    }

    /// `id` leaves a room: numbering between it and `members` ends (a later meeting counts afresh), and whatever
    /// waits on either side is delivered now.
    mutating func forgetNumbers(of id: SessionID, among members: [SessionID], actions: inout [SignalingAction]) {
        if let session = sessions[id] {
            while let oldest = sessions[id]?.early.first { skipGap(from: oldest.delivery.sender, of: id, actions: &actions) }
            if !session.sentNumbers.isEmpty || !session.receivedNumbers.isEmpty {
                sessions[id]?.sentNumbers.removeAll()
                sessions[id]?.receivedNumbers.removeAll()
            }
        }
        for member in members where member != id {
            guard let index = sessions.index(forKey: member) else { continue }
            let session = sessions.values[index]
            while sessions[member]?.early.contains(where: { $0.delivery.sender == id }) == true {
                skipGap(from: id, of: member, actions: &actions)
            }
            if session.sentNumbers[id] != nil || session.receivedNumbers[id] != nil {
                sessions.values[index].sentNumbers[id] = nil
                sessions.values[index].receivedNumbers[id] = nil
            }
        }
    }
}

/// A numbered message that arrived ahead of an earlier one from its sender.
struct EarlyDelivery: Sendable {
    let delivery: RemoteDelivery
    let arrivedAt: MonotonicTime
}
