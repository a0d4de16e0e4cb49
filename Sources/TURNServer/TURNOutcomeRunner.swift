import Logging
import NIOCore
import STUNProtocol
import TURNCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One owner of a TURN core and the sockets its allocations use: the NIO loop context for TCP and TLS clients, or
/// a UDP relay loop for UDP ones. The control path (STUN requests, relay set-up, expiry, the end of allocations) is
/// the same for both and lives in the extension; each owner moves the bytes its own way.
protocol TURNOutcomeRunner: AnyObject {
    var core: TURNServerCore { get set }
    var logger: Logger { get }
    var events: TURNServerEvents { get }
    /// Traffic of ended allocations and STUN messages seen, for `/metrics` (owner-confined: no atomics).
    var counted: TURNStatistics { get set }
    func sendToClient(_ fiveTuple: FiveTuple, _ buffer: ByteBuffer)
    func sendToPeer(_ id: AllocationID, _ peer: TransportAddress, _ payload: ByteBuffer)
    /// Binds the allocation's relay sockets, then calls `relaysBound` or `relaysNotBound`.
    func openRelays(_ pending: PendingAllocation)
    /// Closes the allocation's relay sockets, if it has any.
    func closeRelays(_ id: AllocationID)
}

extension TURNOutcomeRunner {
    /// Now, on both clocks.
    static func now() -> TURNInstant {
        TURNInstant(uptimeNanoseconds: NIODeadline.now().uptimeNanoseconds, unixSeconds: Int64(time(nil)))
    }

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

    /// Every relay socket of `pending` is bound: the allocation goes live and the client gets its success response.
    /// Returns false when the core no longer wants it (the caller then closes the sockets).
    func relaysBound(_ pending: PendingAllocation) -> Bool {
        guard let response = core.relaysOpened(pending.id, now: Self.now()) else { return false }
        logger.debug(
            "turn.allocation.created",
            metadata: [
                "turn.allocation": "\(pending.id)", "turn.five-tuple": "\(pending.fiveTuple)",
                "turn.relay": "\(pending.relays.values.map(\.description))",
            ])
        sendToClient(pending.fiveTuple, response)
        return true
    }

    /// A relay socket of `pending` could not be bound, even after the core's retries: the client gets the error.
    func relaysNotBound(_ pending: PendingAllocation, address: TransportAddress, error: any Error) {
        logger.warning("turn.relay.bind-failed", metadata: ["turn.relay": "\(address)", "error": "\(error)"])
        if let response = core.relaysFailed(pending.id) { sendToClient(pending.fiveTuple, response) }
    }

    /// Every way an allocation ends comes here: its relays close and the event is reported.
    func allocationEnded(_ summary: AllocationSummary) {
        closeRelays(summary.id)
        counted.add(summary)
        events.allocationEnded?(summary)
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

    /// This owner's figures: live allocations plus what ended and what was counted.
    func statistics() -> TURNStatistics {
        core.liveStatistics(now: Self.now()) + counted
    }

    /// Shutdown: every allocation ends.
    func endAllAllocations() {
        for summary in core.removeAll() { allocationEnded(summary) }
    }
}
