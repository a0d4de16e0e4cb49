import CDatagramIO
import Logging
import NIOCore
import STUNProtocol
import TURNCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// TURN for UDP clients on a thread of its own: one `SO_REUSEPORT` listener, the relay sockets of the allocations
/// made through it, and their core.
///
/// It reads and writes its sockets itself (epoll, recvmmsg, sendmmsg) rather than through NIO channels: the relay
/// path then costs no `SocketAddress`, `NIOAny`, pipeline or pending-write bookkeeping per datagram, relay sockets
/// share one receive buffer, and the datagrams for clients that one turn of the loop produces leave in a single
/// sendmmsg. Everything here is touched only on the loop's thread; other threads reach it through
/// `UDPRelayLoopHandle`.
final class UDPRelayLoop: TURNOutcomeRunner {
    var core: TURNServerCore
    let logger: Logger
    let events: TURNServerEvents
    var counted = TURNStatistics()
    private let handle: UDPRelayLoopHandle
    private let epoll: Int32
    private let listener: UDPSocket
    /// The listener's address as clients see it, for their 5-tuples.
    private let server: TransportAddress
    private let rfc5766Range: Bool
    private let inbound: ReceiveSlots
    private let toClients: ClientSendBatch
    /// Relay sockets by descriptor (what epoll reports) and by allocation (what the core names).
    private var relayOwners: [Int32: (id: AllocationID, family: AddressFamily)] = [:]
    private var relays: [AllocationID: [AddressFamily: UDPSocket]] = [:]
    private var stopping = false

    /// epoll tokens besides relay descriptors.
    static let wakeToken = UInt64.max
    static let listenerToken = UInt64.max - 1
    /// Datagrams read per recvmmsg: one batch per ready socket and turn. The listener gets no more than a relay
    /// socket, so when the machine is short of CPU the backlog waits in its deep buffer instead of overflowing relay
    /// sockets with answers (four listener batches per turn lost up to 0.09% of 1000-byte uclient floods at the relay
    /// sockets; one batch lost at most 0.02%).
    private static let batchSize = 32

    init(
        core: TURNServerCore, logger: Logger, events: TURNServerEvents, handle: UDPRelayLoopHandle, epoll: Int32,
        listener: UDPSocket, server: TransportAddress
    ) {
        self.core = core
        self.logger = logger
        self.events = events
        self.handle = handle
        self.epoll = epoll
        self.listener = listener
        self.server = TransportAddress(ip: server.ip.unmapped, port: server.port)
        self.rfc5766Range = core.configuration.channelNumbers.upperBound > ChannelNumber.validRange.upperBound
        self.inbound = ReceiveSlots(count: Self.batchSize)
        self.toClients = ClientSendBatch(socket: listener, mapToIPv6: server.ip.family == .ipv6)
    }

    /// Runs until `stop()`; then ends every allocation and closes every socket.
    func run() {
        var tokens = [UInt64](repeating: 0, count: 64)
        var nextSweep = NIODeadline.now().uptimeNanoseconds + 1_000_000_000
        while !stopping {
            let before = NIODeadline.now().uptimeNanoseconds
            let timeout = before >= nextSweep ? 0 : Int32(min((nextSweep - before) / 1_000_000 + 1, 1_000))
            let ready = tokens.withUnsafeMutableBufferPointer {
                Int(cdio_epoll_wait(epoll, $0.baseAddress, Int32($0.count), timeout))
            }
            if ready > 0 {
                let now = NIODeadline.now().uptimeNanoseconds
                for index in 0..<ready { dispatch(tokens[index], now: now) }
            }
            if NIODeadline.now().uptimeNanoseconds >= nextSweep {
                expiryTimerFired()
                nextSweep = NIODeadline.now().uptimeNanoseconds + 1_000_000_000
            }
            toClients.flush()
        }
        endAllAllocations()
        toClients.flush()
        listener.close()
        close(epoll)
        handle.loopEnded(self)
    }

    /// Ends the loop after the current turn.
    func stop() { stopping = true }

    @inline(__always)
    private func dispatch(_ token: UInt64, now: UInt64) {
        switch token {
        case Self.listenerToken:
            listenerReadable(now: now)
        case Self.wakeToken:
            for task in handle.takeTasks() { task(self) }
        default:
            relayReadable(Int32(truncatingIfNeeded: token), now: now)
        }
    }

    // MARK: client → server

    private func listenerReadable(now: UInt64) {
        let received = inbound.receive(from: listener.descriptor, limit: Self.batchSize)
        for index in 0..<received { clientDatagram(index, now: now) }
    }

    /// Demultiplexes a client's datagram by its first byte into ChannelData or STUN (RFC 8656 §12).
    @inline(__always)
    private func clientDatagram(_ index: Int, now: UInt64) {
        guard let (bytes, source) = inbound.datagram(index), let first = bytes.first else { return }
        let fiveTuple = FiveTuple(
            client: TransportAddress(ip: source.ip.unmapped, port: source.port), server: server, transport: .udp)
        if ChannelData.isChannelData(firstByte: first, rfc5766Range: rfc5766Range) {
            // §12.5: shorter than its length field says means discard; bytes past the length (padding) are ignored.
            guard bytes.count >= ChannelData.headerSize else { return }
            let channel = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            let length = Int(bytes[2]) << 8 | Int(bytes[3])
            guard bytes.count >= ChannelData.headerSize + length else { return }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[ChannelData.headerSize..<ChannelData.headerSize + length])
            guard
                case .toPeer(let id, let peer) = core.channelDataReceived(
                    channel: channel, payloadBytes: length, from: fiveTuple, nowNanoseconds: now),
                let relay = relays[id]?[peer.ip.family]
            else { return }
            relay.send(payload, to: peer)
        } else if ChannelData.isSTUN(firstByte: first) {
            stunReceived(ByteBuffer(bytes: bytes), from: fiveTuple)
        }
    }

    func sendToPeer(_ id: AllocationID, _ peer: TransportAddress, _ payload: ByteBuffer) {
        guard let relay = relays[id]?[peer.ip.family] else { return }
        payload.withUnsafeReadableBytes { relay.send($0, to: peer) }
    }

    // MARK: peer → client

    private func relayReadable(_ descriptor: Int32, now: UInt64) {
        guard let owner = relayOwners[descriptor] else { return }
        let received = inbound.receive(from: descriptor, limit: Self.batchSize)
        for index in 0..<received {
            guard let (payload, peer) = inbound.datagram(index) else { continue }
            switch core.peerDataReceived(allocation: owner.id, from: peer, payloadBytes: payload.count, nowNanoseconds: now) {
            case .drop:
                continue
            case .channelData(let channel, let fiveTuple):
                toClients.appendChannelData(channel: channel, payload: payload, to: fiveTuple.client)
            case .dataIndication(let peer, let fiveTuple):
                toClients.appendDataIndication(
                    transactionID: core.indicationTransactionID(), peer: peer, payload: payload, to: fiveTuple.client)
            }
        }
    }

    func sendToClient(_ fiveTuple: FiveTuple, _ buffer: ByteBuffer) {
        toClients.append(buffer, to: fiveTuple.client)
    }

    // MARK: relays

    func openRelays(_ pending: PendingAllocation) {
        var opened: [AddressFamily: UDPSocket] = [:]
        var reserved: ReservedUDPPort?
        for family in pending.relays.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            var address = pending.relays[family]!
            var attempt = 0
            while opened[family] == nil {
                do {
                    let socket = try relaySocket(address, family: family, pending: pending)
                    // EVEN-PORT with R: port+1 is bound too, and held until its token is redeemed.
                    if pending.reservationToken != nil {
                        do {
                            reserved = try ReservedUDPPort.bind(address.nextPort)
                        } catch {
                            socket.close()
                            throw error
                        }
                    }
                    opened[family] = socket
                } catch {
                    // Another process may hold a port the registry thought free: the core picks another, a few times.
                    if let retry = core.relayBindFailed(pending.id, family: family, attempt: attempt) {
                        address = retry
                        attempt += 1
                        continue
                    }
                    for socket in opened.values { socket.close() }
                    relaysNotBound(pending, address: address, error: error)
                    return
                }
            }
        }
        for (family, socket) in opened {
            guard cdio_epoll_add(epoll, socket.descriptor, UInt64(socket.descriptor)) == 0 else {
                let failure = UDPSocket.Failure(call: "epoll_ctl", errorNumber: errno)
                for socket in opened.values {
                    relayOwners[socket.descriptor] = nil
                    socket.close()
                }
                reserved?.release()
                relaysNotBound(pending, address: pending.relays[family]!, error: failure)
                return
            }
            relayOwners[socket.descriptor] = (pending.id, family)
        }
        if let reserved, let token = pending.reservationToken { core.hold(reserved, reservation: token) }
        relays[pending.id] = opened
        if !relaysBound(pending) { closeRelays(pending.id) }
    }

    /// The socket a redeemed reservation held, made a relay; else a fresh one bound to `address`.
    private func relaySocket(_ address: TransportAddress, family: AddressFamily, pending: PendingAllocation) throws(UDPSocket.Failure)
        -> UDPSocket
    {
        guard let adopted = (pending.reservedHold as? ReservedUDPPort)?.adopt() else {
            return try UDPSocket.bound(to: address, receiveBuffer: RelaySocketOptions.receiveBuffer, dontFragment: pending.dontFragment)
        }
        do {
            try adopted.becomeRelay(family: family, dontFragment: pending.dontFragment)
        } catch {
            adopted.close()
            throw error
        }
        return adopted
    }

    func closeRelays(_ id: AllocationID) {
        guard let sockets = relays.removeValue(forKey: id) else { return }
        for socket in sockets.values {
            // Closing the descriptor also takes it out of the epoll set.
            relayOwners[socket.descriptor] = nil
            socket.close()
        }
    }
}
