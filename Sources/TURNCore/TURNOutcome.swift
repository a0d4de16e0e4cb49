import NIOCore
import STUNProtocol

/// Relays to open before an Allocate can be answered: the edge binds them, then reports back.
public struct PendingAllocation: Sendable {
    /// The allocation's id; relay sockets carry it.
    public var id: AllocationID
    /// The client's 5-tuple.
    public var fiveTuple: FiveTuple
    /// Addresses to bind, per family.
    public var relays: [AddressFamily: TransportAddress]
    /// Whether DONT-FRAGMENT was requested: the edge sets the DF bit on the relay sockets.
    public var dontFragment: Bool
    /// The RESERVATION-TOKEN of port+1, for EVEN-PORT with R: the edge binds that port too and hands the socket to
    /// ``TURNServerCore/hold(_:reservation:)``, so it stays free for the token until redeemed or expired.
    public var reservationToken: UInt64? = nil
    /// For an Allocate that redeemed a RESERVATION-TOKEN: what has held the port since the reservation, for the edge
    /// to adopt as the relay instead of binding the port again (which another process could take in between).
    public var reservedHold: (any ReservedPortHold)? = nil
}

/// What the edge must do after a STUN packet from a client.
public enum TURNOutcome: Sendable {
    /// Nothing: the packet is dropped (malformed response, bad fingerprint, silenced 401, unknown indication…).
    case ignore
    /// Send this response to the client on the same 5-tuple.
    case respond(ByteBuffer)
    /// Bind these relays, then call `relaysOpened` or `relaysFailed`.
    case openRelays(PendingAllocation)
    /// Send this response, then close the allocation's relays (Refresh with lifetime 0).
    case respondAndClose(ByteBuffer, AllocationSummary)
    /// Send this payload from the allocation's relay of the peer's family to the peer (a Send indication).
    case sendToPeer(AllocationID, TransportAddress, ByteBuffer)
}

/// Where a packet received from a peer goes.
public enum PeerDataDecision: Sendable {
    /// Drop it (no permission, over the bandwidth cap, or no such allocation).
    case drop
    /// Wrap it in ChannelData on this channel and send it to the client.
    case channelData(channel: UInt16, to: FiveTuple)
    /// Wrap it in a Data indication naming `peer` and send it to the client.
    case dataIndication(peer: TransportAddress, to: FiveTuple)
}

/// Where ChannelData received from a client goes.
public enum ChannelDataDecision: Sendable {
    /// Drop it.
    case drop
    /// Send the payload from the allocation's relay to this peer.
    case toPeer(AllocationID, TransportAddress)
}
