import NIOCore
import STUNProtocol

extension TURNServerCore {
    /// RFC 8656 §7.2, in the RFC's order. Authentication (step 1) has already succeeded.
    mutating func allocateRequestReceived(
        _ request: STUNParsedMessage, auth: Authenticated, from fiveTuple: FiveTuple, now: TURNInstant
    ) -> TURNOutcome {
        let message = request.message
        func fail(_ code: STUNErrorCode) -> TURNOutcome { .respond(errorResponse(to: request, code, auth: auth)) }
        // 2. The 5-tuple already has an allocation (a retransmission was answered earlier): 437.
        if allocations[fiveTuple] != nil || pending[fiveTuple] != nil { return fail(.allocationMismatch) }
        // 3. REQUESTED-TRANSPORT: missing or malformed is 400; anything but UDP is 442.
        guard let transport = try? message.get(RequestedTransport.self) else { return fail(.badRequest) }
        guard transport.protocolNumber == RequestedTransport.udp else { return fail(.unsupportedTransportProtocol) }
        // 4. DONT-FRAGMENT: honoured (the edge sets DF on the relay sockets), or 420 where it cannot be.
        if message.contains(.dontFragment), !configuration.dontFragmentSupported {
            return .respond(
                errorResponse(to: request, .unknownAttribute, auth: auth) { $0.add(UnknownAttributes([.dontFragment])) })
        }
        guard (try? message.get(DontFragment.self)) != nil || !message.contains(.dontFragment) else { return fail(.badRequest) }
        let dontFragment = message.contains(.dontFragment)
        let evenPort: EvenPort?
        let requestedFamily: RequestedAddressFamily?
        let additionalFamily: AdditionalAddressFamily?
        let token: ReservationToken?
        do {
            evenPort = try message.get(EvenPort.self)
            requestedFamily = try message.get(RequestedAddressFamily.self)
            additionalFamily = try message.get(AdditionalAddressFamily.self)
            token = try message.get(ReservationToken.self)
        } catch {
            return fail(.badRequest)
        }
        // 5. RESERVATION-TOKEN excludes EVEN-PORT and the family attributes; an unknown token is 508.
        if token != nil, evenPort != nil || requestedFamily != nil || additionalFamily != nil { return fail(.badRequest) }
        // 6. REQUESTED- and ADDITIONAL-ADDRESS-FAMILY exclude each other; a family without a relay address is 440.
        if requestedFamily != nil, additionalFamily != nil { return fail(.badRequest) }
        // 7. EVEN-PORT with R set cannot be combined with a dual allocation.
        if evenPort?.reserveNextPort == true, additionalFamily != nil { return fail(.badRequest) }
        // 8. ADDITIONAL-ADDRESS-FAMILY may only ask for IPv6.
        if let additionalFamily, additionalFamily.family != .ipv6 { return fail(.badRequest) }
        var family = requestedFamily?.family ?? defaultFamily(for: fiveTuple)
        if requestedFamily != nil, configuration.relayAddresses[family] == nil { return fail(.addressFamilyNotSupported) }
        if requestedFamily == nil, configuration.relayAddresses[family] == nil {
            // The configured default has no relay address here: fall back to the family that has one.
            guard let available = AddressFamily.allCases.first(where: { configuration.relayAddresses[$0] != nil }) else {
                return fail(.addressFamilyNotSupported)
            }
            family = available
        }
        // Shutting down: no new allocations (508), while live ones keep relaying until the drain ends.
        if isDraining { return fail(.insufficientCapacity) }
        // 9. Quota, per user and in total: 486.
        guard quota.acquire(auth.username) else { return fail(.allocationQuotaReached) }
        var chosen: [AddressFamily: UInt16] = [:]
        var reservation: UInt64? = nil
        let reservationExpiry = now.uptimeNanoseconds + UInt64(configuration.reservationLifetime) * 1_000_000_000
        var addressError: AddressFamily? = nil
        var reservedHold: (any ReservedPortHold)? = nil
        if let token {
            guard let redeemed = ports.redeem(token: token.token, now: now.uptimeNanoseconds) else {
                quota.release(auth.username)
                return fail(.insufficientCapacity)
            }
            guard configuration.relayAddresses[redeemed.family] != nil else {
                redeemed.hold?.release()
                ports.release(family: redeemed.family, port: redeemed.port)
                quota.release(auth.username)
                return fail(.insufficientCapacity)
            }
            family = redeemed.family
            chosen[family] = redeemed.port
            reservedHold = redeemed.hold
        } else {
            let reserveNext = evenPort?.reserveNextPort == true
            guard let port = ports.take(family: family, even: evenPort != nil, reserveNext: reserveNext, using: &random) else {
                quota.release(auth.username)
                return fail(.insufficientCapacity)
            }
            chosen[family] = port
            if reserveNext {
                var system = SystemRandomNumberGenerator()
                var tokenValue: UInt64 = 0
                while tokenValue == 0 { tokenValue = system.next() }
                ports.reserve(token: tokenValue, family: family, port: port + 1, expiresAt: reservationExpiry)
                reservation = tokenValue
            }
            if additionalFamily != nil {
                if configuration.relayAddresses[.ipv6] != nil, let port = ports.take(family: .ipv6, using: &random) {
                    chosen[.ipv6] = port
                } else {
                    // A partial dual allocation: the IPv4 half succeeds, ADDRESS-ERROR-CODE names the other.
                    addressError = .ipv6
                }
            }
        }
        var relays: [AddressFamily: (bind: TransportAddress, advertised: TransportAddress)] = [:]
        for (relayFamily, port) in chosen {
            let address = configuration.relayAddresses[relayFamily]!
            relays[relayFamily] = (TransportAddress(ip: address.bind, port: port), TransportAddress(ip: address.advertised, port: port))
        }
        let id = makeAllocationID()
        pending[fiveTuple] = PendingState(
            id: id, transactionID: message.transactionID, auth: auth, relays: relays,
            lifetime: grantedLifetime(try? message.get(Lifetime.self)), reservationToken: reservation,
            addressError: addressError, wantsFingerprint: request.fingerprintOffset != nil, evenPort: evenPort != nil,
            redeemedToken: token != nil, reservationExpiry: reservationExpiry)
        fiveTupleByID[id] = fiveTuple
        return .openRelays(
            PendingAllocation(
                id: id, fiveTuple: fiveTuple, relays: relays.mapValues(\.bind), dontFragment: dontFragment,
                reservationToken: reservation, reservedHold: reservedHold))
    }

    /// The edge bound every relay of a pending allocation: the allocation exists from now, and is answered.
    public mutating func relaysOpened(_ id: AllocationID, now: TURNInstant) -> ByteBuffer? {
        guard let fiveTuple = fiveTupleByID[id], let state = pending.removeValue(forKey: fiveTuple) else { return nil }
        var response = STUNMessage(
            type: STUNMessageType(method: .allocate, messageClass: .successResponse), transactionID: state.transactionID)
        for family in AddressFamily.allCases {
            if let relay = state.relays[family] { response.add(XORRelayedAddress(relay.advertised)) }
        }
        response.add(Lifetime(seconds: UInt32(state.lifetime)))
        if let token = state.reservationToken { response.add(ReservationToken(token)) }
        response.add(XORMappedAddress(fiveTuple.client))
        if let family = state.addressError {
            response.add(AddressErrorCode(family: family, code: .addressFamilyNotSupported))
        }
        if let software = configuration.software { response.add(Software(software)) }
        let encoded = response.encoded(integrity: (state.auth.integrityKind, state.auth.key), fingerprint: state.wantsFingerprint)
        allocations[fiveTuple] = Allocation(
            id: id, fiveTuple: fiveTuple, username: state.auth.username, createdAtUnixSeconds: now.unixSeconds, key: state.auth.key,
            relays: state.relays,
            expiresAt: now.adding(seconds: state.lifetime).uptimeNanoseconds, lastTransaction: state.transactionID,
            lastResponse: encoded, byteAllowance: Double(configuration.maxBytesPerSecond),
            allowanceUpdatedAt: now.uptimeNanoseconds)
        return encoded
    }

    /// The edge could not bind the relay of `family` (another process holds the port): try another port (or pair, for
    /// EVEN-PORT with R), up to `attempt` 8; `nil` means give up (then call `relaysFailed`). A port redeemed with a
    /// RESERVATION-TOKEN cannot move.
    public mutating func relayBindFailed(_ id: AllocationID, family: AddressFamily, attempt: Int) -> TransportAddress? {
        guard attempt < 8, let fiveTuple = fiveTupleByID[id], var state = pending[fiveTuple],
            let failed = state.relays[family], !state.redeemedToken
        else { return nil }
        let reserveNext = state.reservationToken != nil
        // Take the new port before freeing the failed one, so the same port cannot come back.
        guard let port = ports.take(family: family, even: state.evenPort, reserveNext: reserveNext, using: &random) else {
            return nil
        }
        ports.release(family: family, port: failed.bind.port)
        if let token = state.reservationToken {
            ports.cancelReservation(token: token)
            ports.reserve(token: token, family: family, port: port + 1, expiresAt: state.reservationExpiry)
        }
        let address = configuration.relayAddresses[family]!
        state.relays[family] = (TransportAddress(ip: address.bind, port: port), TransportAddress(ip: address.advertised, port: port))
        pending[fiveTuple] = state
        return state.relays[family]!.bind
    }

    /// The edge bound the port reserved for `token` (port+1 of an EVEN-PORT pair): `hold` keeps it until the token is
    /// redeemed or the reservation ends. A bind of that port that fails is reported as ``relayBindFailed(_:family:attempt:)``
    /// of the pair, which moves both ports.
    public func hold(_ hold: some ReservedPortHold, reservation token: UInt64) {
        ports.attach(hold, token: token)
    }

    /// The edge could not bind a relay: give everything back and answer 508.
    public mutating func relaysFailed(_ id: AllocationID) -> ByteBuffer? {
        guard let fiveTuple = fiveTupleByID[id], let state = forgetPending(fiveTuple) else { return nil }
        var response = STUNMessage(
            type: STUNMessageType(method: .allocate, messageClass: .errorResponse), transactionID: state.transactionID)
        response.add(ErrorCodeAttribute(.insufficientCapacity))
        return response.encoded(integrity: (state.auth.integrityKind, state.auth.key), fingerprint: state.wantsFingerprint)
    }

    /// RFC 8656 §7.2: the default lifetime unless the client asks for more, capped at the maximum.
    func grantedLifetime(_ requested: Lifetime?) -> Int {
        guard let requested else { return configuration.defaultLifetime }
        return max(configuration.defaultLifetime, min(Int(requested.seconds), configuration.maximumLifetime))
    }

    func defaultFamily(for fiveTuple: FiveTuple) -> AddressFamily {
        switch configuration.defaultFamily {
        case .ipv4: .ipv4
        case .ipv6: .ipv6
        case .client: fiveTuple.client.ip.unmapped.family
        }
    }
}
