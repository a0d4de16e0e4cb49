import NIOCore
import STUNProtocol

extension TURNServerCore {
    /// RFC 8656 §11.2: a Send indication is relayed when a permission exists; anything wrong drops it silently.
    mutating func sendIndicationReceived(_ message: STUNMessage, from fiveTuple: FiveTuple, now: TURNInstant) -> TURNOutcome {
        guard let allocation = allocations[fiveTuple], let peer = try? message.get(XORPeerAddress.self),
            let data = message.attribute(.data)
        else { return .ignore }
        guard case .success(let target) = checkPeer(peer.address, for: allocation),
            allocation.hasPermission(target.ip, now: now.uptimeNanoseconds),
            ownRelayCheck(target), spend(data.value.readableBytes, on: fiveTuple, now: now.uptimeNanoseconds, toPeer: true)
        else { return .ignore }
        return .sendToPeer(allocation.id, target, data.value)
    }

    /// RFC 8656 §12.6: ChannelData from a client goes to the channel's peer while the binding and permission last.
    /// It refreshes neither.
    public mutating func channelDataReceived(
        channel: UInt16, payloadBytes: Int, from fiveTuple: FiveTuple, nowNanoseconds now: UInt64
    ) -> ChannelDataDecision {
        guard let allocation = allocations[fiveTuple], let binding = allocation.channels[channel], binding.expiresAt > now,
            allocation.hasPermission(binding.peer.ip, now: now), ownRelayCheck(binding.peer),
            spend(payloadBytes, on: fiveTuple, now: now, toPeer: true)
        else { return .drop }
        return .toPeer(allocation.id, binding.peer)
    }

    /// RFC 8656 §11.3/§12.5: data from a peer reaches the client only under a permission; as ChannelData when a
    /// channel is bound to the peer, else in a Data indication.
    public mutating func peerDataReceived(
        allocation id: AllocationID, from peer: TransportAddress, payloadBytes: Int, nowNanoseconds now: UInt64
    ) -> PeerDataDecision {
        guard let fiveTuple = fiveTupleByID[id], let allocation = allocations[fiveTuple] else { return .drop }
        let source = TransportAddress(ip: peer.ip.unmapped, port: peer.port)
        guard allocation.hasPermission(source.ip, now: now), ownRelayCheck(source),
            spend(payloadBytes, on: fiveTuple, now: now, toPeer: false)
        else { return .drop }
        if let channel = allocation.channelByPeer[source], let binding = allocation.channels[channel], binding.expiresAt > now {
            return .channelData(channel: channel, to: fiveTuple)
        }
        return .dataIndication(peer: advertised(source), to: fiveTuple)
    }

    /// Relay to relay on this server is allowed per port: only live relay ports on our own address pass.
    @inline(__always)
    func ownRelayCheck(_ address: TransportAddress) -> Bool {
        !isOwnAddress(address.ip) || ports.isLive(family: address.ip.family, port: address.port)
    }

    /// How a peer on this server's own bind address is shown to a client: by its advertised address.
    func advertised(_ address: TransportAddress) -> TransportAddress {
        guard isOwnAddress(address.ip),
            let relay = configuration.relayAddresses.values.first(where: { $0.bind == address.ip })
        else { return address }
        return TransportAddress(ip: relay.advertised, port: address.port)
    }

    /// Charges the allocation's bandwidth allowance and traffic counters; `false` means over the cap.
    @inline(__always)
    mutating func spend(_ bytes: Int, on fiveTuple: FiveTuple, now: UInt64, toPeer: Bool) -> Bool {
        let rate = Double(configuration.maxBytesPerSecond)
        return allocations[fiveTuple].map { _ in
            withAllocation(fiveTuple) { allocation in
                if rate > 0 {
                    let elapsed = Double(now &- allocation.allowanceUpdatedAt) / 1e9
                    allocation.byteAllowance = min(rate, allocation.byteAllowance + max(0, elapsed) * rate)
                    allocation.allowanceUpdatedAt = now
                    guard allocation.byteAllowance >= Double(bytes) else { return false }
                    allocation.byteAllowance -= Double(bytes)
                }
                if toPeer {
                    allocation.packetsToPeers &+= 1
                    allocation.bytesToPeers &+= UInt64(bytes)
                } else {
                    allocation.packetsToClient &+= 1
                    allocation.bytesToClient &+= UInt64(bytes)
                }
                return true
            }
        } ?? false
    }

    @inline(__always)
    private mutating func withAllocation(_ fiveTuple: FiveTuple, _ body: (inout Allocation) -> Bool) -> Bool {
        body(&allocations[fiveTuple]!)
    }

    /// A fresh transaction id for a Data indication.
    public mutating func indicationTransactionID() -> TransactionID {
        TransactionID.random(using: &random)
    }
}
