import NIOCore
import STUNProtocol

/// The TURN and STUN server logic for the clients of one event loop: events in, outcomes out, `now` passed in.
///
/// It owns the allocations whose 5-tuples arrive on its loop, so the relay data path (`channelDataReceived`,
/// `peerDataReceived`) touches only this value: no lock, no actor, no allocation. Quotas and relay ports are
/// shared between loops through `RelayPortRegistry` and `AllocationQuota`.
public struct TURNServerCore: Sendable {
    /// The settings.
    public let configuration: TURNConfiguration
    let credentials: TURNCredentials
    let nonces: NonceIssuer
    let ports: RelayPortRegistry
    let quota: AllocationQuota
    var allocations: [FiveTuple: Allocation] = [:]
    var fiveTupleByID: [AllocationID: FiveTuple] = [:]
    var pending: [FiveTuple: PendingState] = [:]
    var limiter: UnauthorizedLimiter
    var random: TURNRandom
    var nextID: UInt64
    /// This server's relay bind and advertised addresses, mapped to the bind address, unless explicitly allowed.
    let ownAddresses: [IPAddress: IPAddress]
    let offeredAlgorithms = PasswordAlgorithms([PasswordAlgorithmEntry(.md5), PasswordAlgorithmEntry(.sha256)])

    struct PendingState: Sendable {
        var id: AllocationID
        var transactionID: TransactionID
        var auth: Authenticated
        var relays: [AddressFamily: (bind: TransportAddress, advertised: TransportAddress)]
        var lifetime: Int
        var reservationToken: UInt64?
        var addressError: AddressFamily?
        var wantsFingerprint: Bool
        var evenPort: Bool
        var redeemedToken: Bool
        var reservationExpiry: UInt64
    }

    /// Creates a core.
    /// - Parameters:
    ///   - idBase: the first allocation id; give each loop its own range so ids are unique server-wide.
    ///   - random: the generator for port choice and indication ids.
    public init(
        configuration: TURNConfiguration, credentials: TURNCredentials, nonces: NonceIssuer, ports: RelayPortRegistry,
        quota: AllocationQuota, idBase: UInt64 = 0, random: TURNRandom = TURNRandom()
    ) {
        self.configuration = configuration
        self.credentials = credentials
        self.nonces = nonces
        self.ports = ports
        self.quota = quota
        self.limiter = UnauthorizedLimiter(rate: configuration.unauthorizedRate, burst: configuration.unauthorizedBurst)
        self.random = random
        self.nextID = idBase
        // This server's own addresses are reachable as peers only at live relay ports (relay to relay), unless the
        // operator allowed the address outright; a whole-address exemption would expose the host's own services.
        var own: [IPAddress: IPAddress] = [:]
        for relay in configuration.relayAddresses.values where !configuration.peerPolicy.explicitlyAllows(relay.bind) {
            own[relay.bind.unmapped] = relay.bind
            own[relay.advertised.unmapped] = relay.bind
        }
        self.ownAddresses = own
    }

    /// Allocations held by this core.
    /// Requests whose credentials were offered but wrong, for `/metrics`.
    public internal(set) var authenticationFailures: UInt64 = 0

    /// Shutting down: Allocate requests get 508 (Insufficient Capacity); live allocations carry on.
    public var isDraining = false

    public var allocationCount: Int { allocations.count }

    /// Whether a client holds an allocation (or one being set up) on `fiveTuple`.
    public func hasAllocation(for fiveTuple: FiveTuple) -> Bool {
        allocations[fiveTuple] != nil || pending[fiveTuple] != nil
    }

    /// A STUN message (request or indication) arrived from a client.
    public mutating func stunReceived(_ packet: ByteBuffer, from fiveTuple: FiveTuple, now: TURNInstant) -> TURNOutcome {
        let parsed: STUNParsedMessage
        do {
            parsed = try STUNParsedMessage(decoding: packet)
        } catch {
            return malformedRequest(packet, error: error, from: fiveTuple)
        }
        let message = parsed.message
        // RFC 8489 §7.3: a message whose FINGERPRINT does not match is not STUN; drop it.
        if parsed.fingerprintIsValid == false { return .ignore }
        switch message.type.messageClass {
        case .indication:
            return message.type.method == .send ? sendIndicationReceived(message, from: fiveTuple, now: now) : .ignore
        case .successResponse, .errorResponse:
            return .ignore
        case .request:
            break
        }
        // RFC 8489 §6.3.1: a retransmission gets the same answer and changes nothing.
        if let allocation = allocations[fiveTuple], allocation.lastTransaction == message.transactionID {
            return .respond(allocation.lastResponse)
        }
        if let pending = pending[fiveTuple], pending.transactionID == message.transactionID { return .ignore }
        let unknown = message.unknownComprehensionRequiredTypes
        if !unknown.isEmpty {
            return .respond(errorResponse(to: parsed, .unknownAttribute, extra: { $0.add(UnknownAttributes(unknown)) }))
        }
        switch message.type.method {
        case .binding:
            return .respond(bindingResponse(to: parsed, from: fiveTuple))
        case .allocate, .refresh, .createPermission, .channelBind:
            let auth: Authenticated
            switch authenticate(parsed, from: fiveTuple, now: now) {
            case .success(let result): auth = result
            case .failure(let outcome): return outcome
            }
            if message.type.method == .allocate {
                return allocateRequestReceived(parsed, auth: auth, from: fiveTuple, now: now)
            }
            // Every other method acts on the 5-tuple's allocation: 437 without one, 441 for other credentials
            // (RFC 8656 §19).
            guard let allocation = allocations[fiveTuple] else {
                return .respond(errorResponse(to: parsed, .allocationMismatch, auth: auth))
            }
            guard allocation.username == auth.username else {
                return .respond(errorResponse(to: parsed, .wrongCredentials, auth: auth))
            }
            switch message.type.method {
            case .refresh:
                return refreshRequestReceived(parsed, auth: auth, allocation: allocation, from: fiveTuple, now: now)
            case .createPermission:
                return createPermissionRequestReceived(parsed, auth: auth, allocation: allocation, from: fiveTuple, now: now)
            default:
                return channelBindRequestReceived(parsed, auth: auth, allocation: allocation, from: fiveTuple, now: now)
            }
        default:
            return .respond(errorResponse(to: parsed, .badRequest))
        }
    }

    /// A request whose header parsed but whose body did not gets 400; anything else is dropped.
    private func malformedRequest(_ packet: ByteBuffer, error: STUNDecodingError, from fiveTuple: FiveTuple) -> TURNOutcome {
        guard error != .notSTUN, packet.readableBytes >= STUNMessage.headerSize,
            let typeField = packet.getInteger(at: packet.readerIndex, as: UInt16.self),
            let high = packet.getInteger(at: packet.readerIndex + 8, as: UInt64.self),
            let low = packet.getInteger(at: packet.readerIndex + 16, as: UInt32.self)
        else { return .ignore }
        let type = STUNMessageType(rawValue: typeField)
        guard type.messageClass == .request else { return .ignore }
        var response = STUNMessage(type: type.response(.errorResponse), transactionID: TransactionID(high: high, low: low))
        response.add(ErrorCodeAttribute(.badRequest))
        return .respond(response.encoded())
    }

    /// RFC 8489 §6.3.1 Binding: XOR-MAPPED-ADDRESS only, so the answer is barely larger than the request.
    private func bindingResponse(to request: STUNParsedMessage, from fiveTuple: FiveTuple) -> ByteBuffer {
        var response = STUNMessage(
            type: request.message.type.response(.successResponse), transactionID: request.message.transactionID)
        response.add(XORMappedAddress(fiveTuple.client))
        return encode(response, for: request, auth: nil)
    }

    /// Encodes a response: SOFTWARE if configured, integrity when the request was authenticated, FINGERPRINT when the
    /// request had one.
    func encode(_ response: STUNMessage, for request: STUNParsedMessage, auth: Authenticated?) -> ByteBuffer {
        var response = response
        if let software = configuration.software { response.add(Software(software)) }
        let integrity = auth.map { (kind: $0.integrityKind, key: $0.key) }
        return response.encoded(integrity: integrity, fingerprint: request.fingerprintOffset != nil)
    }

    /// An error response, signed when the request was authenticated.
    func errorResponse(
        to request: STUNParsedMessage, _ code: STUNErrorCode, auth: Authenticated? = nil,
        extra: (inout STUNMessage) -> Void = { _ in }
    ) -> ByteBuffer {
        var response = STUNMessage(
            type: request.message.type.response(.errorResponse), transactionID: request.message.transactionID)
        response.add(ErrorCodeAttribute(code))
        extra(&response)
        return encode(response, for: request, auth: auth)
    }

    mutating func makeAllocationID() -> AllocationID {
        nextID += 1
        return AllocationID(rawValue: nextID)
    }
}
