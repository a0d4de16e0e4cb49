import NIOCore
import STUNProtocol

/// An opaque number naming one allocation on one event loop; relay sockets are tagged with it.
public struct AllocationID: Hashable, Sendable, CustomStringConvertible {
    /// The number.
    public var rawValue: UInt64

    /// Wraps a number.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { "a\(rawValue)" }
}

/// A channel binding (RFC 8656 §12).
struct ChannelBinding: Hashable, Sendable {
    var peer: TransportAddress
    var expiresAt: UInt64
}

/// One allocation's state: relays, permissions, channels, credentials and lifetime.
struct Allocation: Sendable {
    let id: AllocationID
    let fiveTuple: FiveTuple
    /// The username that created it; other credentials get 441.
    let username: String
    /// The key its responses are signed with.
    var key: STUNIntegrityKey
    /// Bound relay ports per family, and the address advertised for each.
    var relays: [AddressFamily: (bind: TransportAddress, advertised: TransportAddress)]
    var expiresAt: UInt64
    /// Permissions by peer IP (unmapped form), with their expiry.
    var permissions: [IPAddress: UInt64] = [:]
    var channels: [UInt16: ChannelBinding] = [:]
    var channelByPeer: [TransportAddress: UInt16] = [:]
    /// The last request answered and its response, for retransmissions (RFC 8489 §6.3.1).
    var lastTransaction: TransactionID
    var lastResponse: ByteBuffer
    /// Bandwidth bucket: bytes available, refilled at the configured rate.
    var byteAllowance: Double
    var allowanceUpdatedAt: UInt64
    /// Traffic relayed, for records and metrics.
    var packetsToPeers: UInt64 = 0
    var bytesToPeers: UInt64 = 0
    var packetsToClient: UInt64 = 0
    var bytesToClient: UInt64 = 0

    func hasPermission(_ ip: IPAddress, now: UInt64) -> Bool {
        guard let expiry = permissions[ip.unmapped] else { return false }
        return expiry > now
    }
}
