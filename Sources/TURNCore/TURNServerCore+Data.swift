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
            ownRelayCheck(target),
            allocations[fiveTuple]!.spend(
                data.value.readableBytes, now: now.uptimeNanoseconds, rate: Double(configuration.maxBytesPerSecond), toPeer: true)
        else { return .ignore }
        return .sendToPeer(allocation.id, target, data.value)
    }

    /// RFC 8656 §12.6: ChannelData from a client goes to the channel's peer while the binding and permission last.
    /// It refreshes neither. The allocation is read and charged in place: no copy, one lookup.
    public mutating func channelDataReceived(
        channel: UInt16, payloadBytes: Int, from fiveTuple: FiveTuple, nowNanoseconds now: UInt64
    ) -> ChannelDataDecision {
        guard let index = allocations.index(forKey: fiveTuple) else { return .drop }
        let rate = Double(configuration.maxBytesPerSecond)
        guard let binding = allocations.values[index].admitChannelData(channel, bytes: payloadBytes, now: now, rate: rate),
            !binding.peerIsOwnAddress || ports.isLive(family: binding.peer.ip.family, port: binding.peer.port)
        else { return .drop }
        return .toPeer(allocations.values[index].id, binding.peer)
    }

    /// RFC 8656 §11.3/§12.5: data from a peer reaches the client only under a permission; as ChannelData when a
    /// channel is bound to the peer, else in a Data indication.
    public mutating func peerDataReceived(
        allocation id: AllocationID, from peer: TransportAddress, payloadBytes: Int, nowNanoseconds now: UInt64
    ) -> PeerDataDecision {
        guard let fiveTuple = fiveTupleByID[id], let index = allocations.index(forKey: fiveTuple) else { return .drop }
        let source = TransportAddress(ip: peer.ip.unmapped, port: peer.port)
        guard ownRelayCheck(source) else { return .drop }
        let rate = Double(configuration.maxBytesPerSecond)
        switch allocations.values[index].admitFromPeer(source, bytes: payloadBytes, now: now, rate: rate) {
        case .none: return .drop
        case .some(.some(let channel)): return .channelData(channel: channel, to: fiveTuple)
        case .some(.none):
            // Too large for a Data indication's length field: dropped, as a datagram the client could not take.
            guard DataIndication.fits(payloadLength: payloadBytes, family: source.ip.family) else { return .drop }
            return .dataIndication(peer: advertised(source), to: fiveTuple)
        }
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

    /// A fresh transaction id for a Data indication.
    public mutating func indicationTransactionID() -> TransactionID {
        TransactionID.random(using: &random)
    }
}
