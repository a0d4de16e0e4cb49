import NIOCore
import STUNProtocol

extension TURNServerCore {
    /// Answers a request on an allocation and remembers the answer for retransmissions.
    private mutating func answer(
        _ request: STUNParsedMessage, auth: Authenticated, on fiveTuple: FiveTuple, _ response: STUNMessage
    ) -> TURNOutcome {
        let encoded = encode(response, for: request, auth: auth)
        allocations[fiveTuple]?.lastTransaction = request.message.transactionID
        allocations[fiveTuple]?.lastResponse = encoded
        return .respond(encoded)
    }

    private func success(_ request: STUNParsedMessage) -> STUNMessage {
        STUNMessage(type: request.message.type.response(.successResponse), transactionID: request.message.transactionID)
    }

    /// RFC 8656 §8: Refresh; lifetime 0 deletes the allocation.
    mutating func refreshRequestReceived(
        _ request: STUNParsedMessage, auth: Authenticated, allocation: Allocation, from fiveTuple: FiveTuple,
        now: TURNInstant
    ) -> TURNOutcome {
        let requested: Lifetime?
        do {
            requested = try request.message.get(Lifetime.self)
            if let family = try request.message.get(RequestedAddressFamily.self), allocation.relays[family.family] == nil {
                return .respond(errorResponse(to: request, .peerAddressFamilyMismatch, auth: auth))
            }
        } catch {
            return .respond(errorResponse(to: request, .badRequest, auth: auth))
        }
        var response = success(request)
        if requested?.seconds == 0 {
            response.add(Lifetime(seconds: 0))
            let encoded = encode(response, for: request, auth: auth)
            guard let summary = removeAllocation(fiveTuple) else { return .respond(encoded) }
            return .respondAndClose(encoded, summary)
        }
        let lifetime = grantedLifetime(requested)
        allocations[fiveTuple]?.expiresAt = now.adding(seconds: lifetime).uptimeNanoseconds
        response.add(Lifetime(seconds: UInt32(lifetime)))
        return answer(request, auth: auth, on: fiveTuple, response)
    }

    /// RFC 8656 §10: CreatePermission for one or more peers, all or nothing.
    mutating func createPermissionRequestReceived(
        _ request: STUNParsedMessage, auth: Authenticated, allocation: Allocation, from fiveTuple: FiveTuple,
        now: TURNInstant
    ) -> TURNOutcome {
        guard let peers = try? request.message.getAll(XORPeerAddress.self), !peers.isEmpty else {
            return .respond(errorResponse(to: request, .badRequest, auth: auth))
        }
        var installs: [IPAddress] = []
        for peer in peers {
            switch checkPeer(peer.address, for: allocation) {
            case .success(let target): installs.append(target.ip)
            case .failure(let code): return .respond(errorResponse(to: request, code, auth: auth))
            }
        }
        let expiry = now.adding(seconds: configuration.permissionLifetime).uptimeNanoseconds
        for ip in installs { allocations[fiveTuple]?.permissions[ip] = expiry }
        return answer(request, auth: auth, on: fiveTuple, success(request))
    }

    /// RFC 8656 §12.2: ChannelBind, which also installs or refreshes the peer's permission.
    mutating func channelBindRequestReceived(
        _ request: STUNParsedMessage, auth: Authenticated, allocation: Allocation, from fiveTuple: FiveTuple,
        now: TURNInstant
    ) -> TURNOutcome {
        guard let channel = try? request.message.get(ChannelNumber.self), configuration.channelNumbers.contains(channel.number),
            let peer = try? request.message.get(XORPeerAddress.self)
        else { return .respond(errorResponse(to: request, .badRequest, auth: auth)) }
        let target: TransportAddress
        switch checkPeer(peer.address, for: allocation) {
        case .success(let checked): target = checked
        case .failure(let code): return .respond(errorResponse(to: request, code, auth: auth))
        }
        // The channel must not name another peer, nor the peer another channel.
        if let bound = allocation.channels[channel.number], bound.peer != target {
            return .respond(errorResponse(to: request, .badRequest, auth: auth))
        }
        if let existing = allocation.channelByPeer[target], existing != channel.number {
            return .respond(errorResponse(to: request, .badRequest, auth: auth))
        }
        let channelExpiry = now.adding(seconds: configuration.channelLifetime).uptimeNanoseconds
        let permissionExpiry = now.adding(seconds: configuration.permissionLifetime).uptimeNanoseconds
        let binding = ChannelBinding(peer: target, expiresAt: channelExpiry, peerIsOwnAddress: isOwnAddress(target.ip))
        allocations[fiveTuple]?.channels[channel.number] = binding
        allocations[fiveTuple]?.channelByPeer[target] = channel.number
        let current = allocations[fiveTuple]?.permissions[target.ip] ?? 0
        allocations[fiveTuple]?.permissions[target.ip] = max(current, permissionExpiry)
        return answer(request, auth: auth, on: fiveTuple, success(request))
    }

    /// Normalises a peer address and applies the policy: 443 for a family the allocation has no relay for,
    /// 403 for a refused address. The result is the address to use on the wire (this server's own advertised
    /// addresses become their bind addresses).
    func checkPeer(_ peer: TransportAddress, for allocation: Allocation) -> Result<TransportAddress, STUNErrorCode> {
        let ip = peer.ip.unmapped
        guard allocation.relays[ip.family] != nil else { return .failure(.peerAddressFamilyMismatch) }
        if let bind = ownAddresses[ip] {
            // The relay-to-relay exemption is per port: only a live relay on this server may be named. (Data to
            // other ports of the address is refused per packet too, since permissions themselves are per IP.)
            guard ports.isLive(family: bind.family, port: peer.port) else { return .failure(.forbidden) }
            return .success(TransportAddress(ip: bind, port: peer.port))
        }
        guard configuration.peerPolicy.permits(ip) else { return .failure(.forbidden) }
        return .success(TransportAddress(ip: ip, port: peer.port))
    }

    /// Whether `ip` (already unmapped) is one of this server's relay bind addresses.
    @inline(__always)
    func isOwnAddress(_ ip: IPAddress) -> Bool {
        !ownAddresses.isEmpty && ownAddresses[ip] == ip
    }
}
