import Logging
import NIOCore
import NIOPosix
import STUNProtocol
import TURNCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The TURN state of one event loop: its core, its listeners' and relays' channels, and a reusable output buffer.
///
/// Every handler on the loop shares it; it is only touched on its loop, which is what lets the relay path run
/// without locks or actor hops.
final class TURNLoopContext {
    let eventLoop: any EventLoop
    var core: TURNServerCore
    let logger: Logger
    let events: TURNServerEvents
    /// The UDP listener of this loop, and whether it is an IPv6 socket (IPv4 clients then appear mapped).
    var udpListener: (any Channel)?
    var udpListenerIsIPv6 = false
    /// TCP and TLS client connections on this loop.
    var streamClients: [FiveTuple: any Channel] = [:]
    /// Relay sockets per allocation and family.
    var relays: [AllocationID: [AddressFamily: any Channel]] = [:]
    /// Reused for every ChannelData header and Data indication written to clients.
    var outBuffer: ByteBuffer
    /// Socket addresses by transport address, so sends do not build one per packet.
    var socketAddresses: [TransportAddress: SocketAddress] = [:]
    var expiryTask: RepeatedTask?
    /// Traffic of ended allocations and STUN messages seen, for `/metrics` (loop-confined: no atomics).
    var counted = TURNStatistics()

    init(eventLoop: any EventLoop, core: TURNServerCore, logger: Logger, events: TURNServerEvents) {
        self.eventLoop = eventLoop
        self.core = core
        self.logger = logger
        self.events = events
        self.outBuffer = ByteBufferAllocator().buffer(capacity: 65_600)
    }

    /// Now, on both clocks.
    static func now() -> TURNInstant {
        TURNInstant(uptimeNanoseconds: NIODeadline.now().uptimeNanoseconds, unixSeconds: Int64(time(nil)))
    }

    func socketAddress(_ address: TransportAddress, mapToIPv6: Bool = false) -> SocketAddress {
        if let cached = socketAddresses[address] { return cached }
        if socketAddresses.count > 16_384 { socketAddresses.removeAll(keepingCapacity: true) }
        let made = address.socketAddress(mapToIPv6: mapToIPv6)
        socketAddresses[address] = made
        return made
    }

    // MARK: client → server

    /// Runs the core on a STUN message from a client and performs the outcome.
    func stunReceived(_ packet: ByteBuffer, from fiveTuple: FiveTuple) {
        counted.stunMessages &+= 1
        switch core.stunReceived(packet, from: fiveTuple, now: Self.now()) {
        case .ignore:
            logger.trace("turn.drop", metadata: ["turn.five-tuple": "\(fiveTuple)"])
        case .respond(let response):
            sendToClient(fiveTuple, response)
        case .respondAndClose(let response, let summary):
            sendToClient(fiveTuple, response)
            allocationEnded(summary)
            logger.debug(
                "turn.allocation.deleted", metadata: ["turn.allocation": "\(summary.id)", "turn.five-tuple": "\(fiveTuple)"])
        case .openRelays(let pending):
            openRelays(pending)
        case .sendToPeer(let id, let peer, let payload):
            sendToPeer(id, peer, payload)
        }
    }

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
    private func sendToPeer(_ id: AllocationID, _ peer: TransportAddress, _ payload: ByteBuffer) {
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
            ChannelData.write(channel: channel, payload: payload, padded: fiveTuple.transport.isStream, into: &outBuffer)
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
        if fiveTuple.transport == .udp {
            guard let listener = udpListener else { return }
            let envelope = AddressedEnvelope(
                remoteAddress: socketAddress(fiveTuple.client, mapToIPv6: udpListenerIsIPv6), data: buffer)
            listener.writeAndFlush(envelope, promise: nil)
        } else {
            streamClients[fiveTuple]?.writeAndFlush(buffer, promise: nil)
        }
    }

    // MARK: relays

    private func openRelays(_ pending: PendingAllocation) {
        let families = Array(pending.relays.keys)
        bindRelays(pending, remaining: families, opened: [:], attempt: 0)
    }

    private func bindRelays(
        _ pending: PendingAllocation, remaining: [AddressFamily], opened: [AddressFamily: any Channel], attempt: Int
    ) {
        guard let family = remaining.first else {
            relays[pending.id] = opened
            guard let response = core.relaysOpened(pending.id, now: Self.now()) else {
                for channel in opened.values { channel.close(promise: nil) }
                relays[pending.id] = nil
                return
            }
            logger.debug(
                "turn.allocation.created",
                metadata: [
                    "turn.allocation": "\(pending.id)", "turn.five-tuple": "\(pending.fiveTuple)",
                    "turn.relay": "\(pending.relays.values.map(\.description))",
                ])
            sendToClient(pending.fiveTuple, response)
            return
        }
        let address = pending.relays[family]!
        let id = pending.id
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        var bootstrap = DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 0)
            // Room for the largest datagram; NIO pools the buffer per socket. (Vector reads here measured no faster
            // and cost about 200 KiB of RSS per allocation, so relay sockets read one datagram at a time.)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
            // One recvmsg per readiness: NIO's epoll is level-triggered, so a second datagram is reported again,
            // and a lone datagram no longer costs a second recvmsg that returns EAGAIN.
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RelayHandler(context: loopBound.value, allocation: id))
                }
            }
        if pending.dontFragment { bootstrap = bootstrap.channelOption(Self.dontFragmentOption(family), value: 2) }
        bootstrap.bind(to: address.socketAddress()).assumeIsolated().whenComplete { result in
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
                self.logger.warning(
                    "turn.relay.bind-failed", metadata: ["turn.relay": "\(address)", "error": "\(error)"])
                for channel in opened.values { channel.close(promise: nil) }
                if let response = self.core.relaysFailed(id) { self.sendToClient(pending.fiveTuple, response) }
            }
        }
    }

    /// IP_MTU_DISCOVER / IPV6_MTU_DISCOVER with IP_PMTUDISC_DO (2): the kernel sets DF and never fragments.
    static func dontFragmentOption(_ family: AddressFamily) -> ChannelOptions.Types.SocketOption {
        #if os(Linux)
            family == .ipv4
                ? .init(level: .ip, name: .init(rawValue: 10))
                : .init(level: .ipv6, name: .init(rawValue: 23))
        #else
            .init(level: .ip, name: .init(rawValue: 28))
        #endif
    }

    /// Every way an allocation ends comes here: its relays close and the event is reported.
    func allocationEnded(_ summary: AllocationSummary) {
        closeRelays(summary.id)
        counted.add(summary)
        events.allocationEnded?(summary)
    }

    func closeRelays(_ id: AllocationID) {
        guard let channels = relays.removeValue(forKey: id) else { return }
        for channel in channels.values { channel.close(promise: nil) }
    }

    /// The once-a-second sweep.
    func expiryTimerFired() {
        for summary in core.expiryTimerFired(now: Self.now()) {
            allocationEnded(summary)
            logger.debug(
                "turn.allocation.expired",
                metadata: [
                    "turn.allocation": "\(summary.id)", "turn.packets-to-peers": "\(summary.packetsToPeers)",
                    "turn.packets-to-client": "\(summary.packetsToClient)",
                ])
        }
    }

    /// A stream client went away: its allocation ends.
    func streamClosed(_ fiveTuple: FiveTuple) {
        streamClients[fiveTuple] = nil
        if let summary = core.connectionClosed(fiveTuple) { allocationEnded(summary) }
    }

    /// This loop's figures: live allocations plus what ended and what was counted.
    func statistics() -> TURNStatistics {
        core.liveStatistics(now: Self.now()) + counted
    }

    /// Shutdown: every allocation ends.
    func closeAll() {
        expiryTask?.cancel()
        for summary in core.removeAll() { allocationEnded(summary) }
        for channel in relays.values.flatMap(\.values) { channel.close(promise: nil) }
        relays.removeAll()
    }
}
