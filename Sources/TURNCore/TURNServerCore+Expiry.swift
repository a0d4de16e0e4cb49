import STUNProtocol

/// Traffic an allocation relayed, reported when it ends.
public struct AllocationSummary: Hashable, Sendable {
    /// The allocation.
    public var id: AllocationID
    /// Its username.
    public var username: String
    /// The client's 5-tuple.
    public var fiveTuple: FiveTuple
    /// The relayed addresses advertised to the client, one per family.
    public var relayedAddresses: [TransportAddress]
    /// When it was created, in Unix seconds.
    public var createdAtUnixSeconds: Int64
    /// Packets and bytes relayed to peers.
    public var packetsToPeers: UInt64, bytesToPeers: UInt64
    /// Packets and bytes relayed to the client.
    public var packetsToClient: UInt64, bytesToClient: UInt64
}

extension Allocation {
    /// Its identity, addresses and traffic so far.
    var summary: AllocationSummary {
        AllocationSummary(
            id: id, username: username, fiveTuple: fiveTuple,
            relayedAddresses: relays.sorted { $0.key == .ipv4 && $1.key != .ipv4 }.map(\.value.advertised),
            createdAtUnixSeconds: createdAtUnixSeconds, packetsToPeers: packetsToPeers, bytesToPeers: bytesToPeers,
            packetsToClient: packetsToClient, bytesToClient: bytesToClient)
    }
}

extension TURNServerCore {
    /// The periodic sweep: expired allocations end (their relays must be closed), expired permissions and channels
    /// go, unredeemed port reservations are released.
    public mutating func expiryTimerFired(now: TURNInstant) -> [AllocationSummary] {
        let nanos = now.uptimeNanoseconds
        ports.expireReservations(now: nanos)
        var ended: [AllocationSummary] = []
        for (fiveTuple, allocation) in allocations {
            if allocation.expiresAt <= nanos {
                if let summary = removeAllocation(fiveTuple) { ended.append(summary) }
                continue
            }
            if allocation.permissions.values.contains(where: { $0 <= nanos }) {
                allocations[fiveTuple]?.permissions = allocation.permissions.filter { $0.value > nanos }
            }
            if allocation.channels.values.contains(where: { $0.expiresAt <= nanos }) {
                for (number, binding) in allocation.channels where binding.expiresAt <= nanos {
                    allocations[fiveTuple]?.channels[number] = nil
                    allocations[fiveTuple]?.channelByPeer[binding.peer] = nil
                }
            }
        }
        return ended
    }

    /// A TCP or TLS client connection closed: its allocation ends with it (RFC 8656 §2.1).
    public mutating func connectionClosed(_ fiveTuple: FiveTuple) -> AllocationSummary? {
        forgetPending(fiveTuple)
        return removeAllocation(fiveTuple)
    }

    /// Ends every allocation (shutdown), returning their summaries; those still waiting for their relays give back
    /// their ports, reservations and quota too.
    public mutating func removeAll() -> [AllocationSummary] {
        for fiveTuple in Array(pending.keys) { forgetPending(fiveTuple) }
        return allocations.keys.compactMap { removeAllocation($0) }
    }

    /// Forgets an allocation whose relays are not bound yet, giving back its ports, reservation and quota.
    @discardableResult
    mutating func forgetPending(_ fiveTuple: FiveTuple) -> PendingState? {
        guard let state = pending.removeValue(forKey: fiveTuple) else { return nil }
        fiveTupleByID[state.id] = nil
        for (family, relay) in state.relays { ports.release(family: family, port: relay.bind.port) }
        // The pair never existed: its reserved half (and the socket holding it) goes too.
        if let token = state.reservationToken { ports.cancelReservation(token: token) }
        quota.release(state.auth.username)
        return state
    }

    /// Forgets an allocation and gives back its ports and quota.
    @discardableResult
    mutating func removeAllocation(_ fiveTuple: FiveTuple) -> AllocationSummary? {
        guard let allocation = allocations.removeValue(forKey: fiveTuple) else { return nil }
        fiveTupleByID[allocation.id] = nil
        for (family, relay) in allocation.relays { ports.release(family: family, port: relay.bind.port) }
        quota.release(allocation.username)
        return allocation.summary
    }
}
