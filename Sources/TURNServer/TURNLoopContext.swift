import Logging
import NIOCore
import NIOPosix
import STUNProtocol
import TURNCore

/// The TURN state of one NIO event loop for its TCP and TLS clients: its core, the client connections, their
/// allocations' relay channels and a reusable output buffer. (UDP clients are served by `UDPRelayLoop`s.)
///
/// Every handler on the loop shares it; it is only touched on its loop, which is what lets the relay path run
/// without locks or actor hops.
final class TURNLoopContext: TURNOutcomeRunner {
    let eventLoop: any EventLoop
    var core: TURNServerCore
    let logger: Logger
    let events: TURNServerEvents
    /// TCP and TLS client connections on this loop.
    var streamClients: [FiveTuple: any Channel] = [:]
    /// Relay sockets per allocation and family.
    var relays: [AllocationID: [AddressFamily: any Channel]] = [:]
    /// Reused for every ChannelData header and Data indication written to clients.
    var outBuffer: ByteBuffer
    /// Socket addresses by transport address, so sends do not build one per packet.
    var socketAddresses: [TransportAddress: SocketAddress] = [:]
    var expiryTask: RepeatedTask?
    var counted = TURNStatistics()

    init(eventLoop: any EventLoop, core: TURNServerCore, logger: Logger, events: TURNServerEvents) {
        self.eventLoop = eventLoop
        self.core = core
        self.logger = logger
        self.events = events
        self.outBuffer = ByteBufferAllocator().buffer(capacity: 65_600)
    }

    func socketAddress(_ address: TransportAddress) -> SocketAddress {
        if let cached = socketAddresses[address] { return cached }
        if socketAddresses.count > 16_384 { socketAddresses.removeAll(keepingCapacity: true) }
        let made = address.socketAddress()
        socketAddresses[address] = made
        return made
    }

    // MARK: client → server

    /// ChannelData from a client: the hot path.
    @inline(__always)
    func channelDataReceived(channel: UInt16, payload: ByteBuffer, from fiveTuple: FiveTuple) {
        let decision = core.channelDataReceived(
            channel: channel, payloadBytes: payload.readableBytes, from: fiveTuple,
            nowNanoseconds: NIODeadline.now().uptimeNanoseconds)
        guard case .toPeer(let id, let peer) = decision else { return }
        sendToPeer(id, peer, payload)
    }

    @inline(__always)
    func sendToPeer(_ id: AllocationID, _ peer: TransportAddress, _ payload: ByteBuffer) {
        guard let relay = relays[id]?[peer.ip.family] else { return }
        let envelope = AddressedEnvelope(remoteAddress: socketAddress(peer), data: payload)
        relay.writeAndFlush(envelope, promise: nil)
    }

    // MARK: peer → client

    /// A datagram from a peer arrived on a relay socket: the other hot path.
    @inline(__always)
    func peerDataReceived(_ envelope: AddressedEnvelope<ByteBuffer>, on id: AllocationID) {
        guard let peer = TransportAddress(envelope.remoteAddress) else { return }
        let payload = envelope.data
        switch core.peerDataReceived(
            allocation: id, from: peer, payloadBytes: payload.readableBytes, nowNanoseconds: NIODeadline.now().uptimeNanoseconds)
        {
        case .drop:
            return
        case .channelData(let channel, let fiveTuple):
            outBuffer.clear()
            ChannelData.write(channel: channel, payload: payload, padded: true, into: &outBuffer)
            sendToClient(fiveTuple, outBuffer)
        case .dataIndication(let peer, let fiveTuple):
            outBuffer.clear()
            DataIndication.write(
                transactionID: core.indicationTransactionID(), peer: peer, payload: payload, into: &outBuffer)
            sendToClient(fiveTuple, outBuffer)
        }
    }

    @inline(__always)
    func sendToClient(_ fiveTuple: FiveTuple, _ buffer: ByteBuffer) {
        streamClients[fiveTuple]?.writeAndFlush(buffer, promise: nil)
    }

    // MARK: relays

    func openRelays(_ pending: PendingAllocation) {
        bindRelays(pending, remaining: Array(pending.relays.keys), opened: [:], attempt: 0)
    }

    private func bindRelays(
        _ pending: PendingAllocation, remaining: [AddressFamily], opened: [AddressFamily: any Channel], attempt: Int
    ) {
        guard let family = remaining.first else {
            relays[pending.id] = opened
            if !relaysBound(pending) { closeRelays(pending.id) }
            return
        }
        let address = pending.relays[family]!
        let id = pending.id
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        var bootstrap = DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 0)
            // Room for the largest datagram; NIO pools the buffer per socket.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelOption(.socketOption(.so_rcvbuf), value: Int(RelaySocketOptions.receiveBuffer))
            // One recvmsg per readiness: NIO's epoll is level-triggered, so a second datagram is reported again,
            // and a lone datagram no longer costs a second recvmsg that returns EAGAIN.
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RelayHandler(context: loopBound.value, allocation: id))
                }
            }
        if pending.dontFragment {
            let option = RelaySocketOptions.dontFragment(family)
            bootstrap = bootstrap.channelOption(
                ChannelOptions.Types.SocketOption(
                    level: NIOBSDSocket.OptionLevel(rawValue: option.level), name: NIOBSDSocket.Option(rawValue: option.name)),
                value: 2)
        }
        // A redeemed reservation's socket has held the port since the reservation: it becomes the relay.
        let bound =
            if let adopted = (pending.reservedHold as? ReservedUDPPort)?.adopt() {
                bootstrap.withBoundSocket(adopted.descriptor)
            } else {
                bootstrap.bind(to: address.socketAddress())
            }
        bound.assumeIsolated().flatMapThrowing { channel in
            // EVEN-PORT with R: port+1 is bound too, and held until its token is redeemed.
            guard let token = pending.reservationToken else { return channel }
            do {
                self.core.hold(try ReservedUDPPort.bind(address.nextPort), reservation: token)
            } catch {
                channel.close(promise: nil)
                throw error
            }
            return channel
        }.whenComplete { result in
            switch result {
            case .success(let channel):
                var opened = opened
                opened[family] = channel
                self.bindRelays(pending, remaining: Array(remaining.dropFirst()), opened: opened, attempt: 0)
            case .failure(let error):
                if let retry = self.core.relayBindFailed(id, family: family, attempt: attempt) {
                    var moved = pending
                    moved.relays[family] = retry
                    self.bindRelays(moved, remaining: remaining, opened: opened, attempt: attempt + 1)
                    return
                }
                for channel in opened.values { channel.close(promise: nil) }
                self.relaysNotBound(pending, address: address, error: error)
            }
        }
    }

    func closeRelays(_ id: AllocationID) {
        guard let channels = relays.removeValue(forKey: id) else { return }
        for channel in channels.values { channel.close(promise: nil) }
    }

    /// A stream client went away: its allocation ends.
    func streamClosed(_ fiveTuple: FiveTuple) {
        streamClients[fiveTuple] = nil
        if let summary = core.connectionClosed(fiveTuple) { allocationEnded(summary) }
    }

    /// Shutdown: every allocation ends.
    func closeAll() {
        expiryTask?.cancel()
        endAllAllocations()
        for channel in relays.values.flatMap(\.values) { channel.close(promise: nil) }
        relays.removeAll()
    }
}
