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
    /// Whether the peer is this server's own relay address (then each packet checks the port is a live relay).
    var peerIsOwnAddress: Bool
}

/// One allocation's state: relays, permissions, channels, credentials and lifetime.
struct Allocation: Sendable {
    let id: AllocationID
    let fiveTuple: FiveTuple
    /// The username that created it; other credentials get 441.
    let username: String
    /// When it was created, for its call record.
    let createdAtUnixSeconds: Int64
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

    /// Charges the bandwidth allowance (when `rate` > 0) and the traffic counters; `false` means over the cap.
    @inline(__always)
    mutating func spend(_ bytes: Int, now: UInt64, rate: Double, toPeer: Bool) -> Bool {
        if rate > 0 {
            let elapsed = Double(now &- allowanceUpdatedAt) / 1e9
            byteAllowance = min(rate, byteAllowance + max(0, elapsed) * rate)
            allowanceUpdatedAt = now
            guard byteAllowance >= Double(bytes) else { return false }
            byteAllowance -= Double(bytes)
        }
        if toPeer {
            packetsToPeers &+= 1
            bytesToPeers &+= UInt64(bytes)
        } else {
            packetsToClient &+= 1
            bytesToClient &+= UInt64(bytes)
        }
        return true
    }

    /// The data path for ChannelData from the client, in place: the bound peer if the binding and its permission
    /// are live and the allowance covers the bytes.
    @inline(__always)
    mutating func admitChannelData(_ channel: UInt16, bytes: Int, now: UInt64, rate: Double) -> ChannelBinding? {
        guard let binding = channels[channel], binding.expiresAt > now, hasPermission(binding.peer.ip, now: now),
            spend(bytes, now: now, rate: rate, toPeer: true)
        else { return nil }
        return binding
    }

    /// The data path for a datagram from a peer, in place: `.some(channel)` to send it as ChannelData, `.some(nil)`
    /// for a Data indication, `nil` to drop it.
    @inline(__always)
    mutating func admitFromPeer(_ source: TransportAddress, bytes: Int, now: UInt64, rate: Double) -> UInt16?? {
        guard hasPermission(source.ip, now: now), spend(bytes, now: now, rate: rate, toPeer: false) else { return nil }
        if let channel = channelByPeer[source], let binding = channels[channel], binding.expiresAt > now {
            return .some(channel)
        }
        return .some(nil)
    }
}
