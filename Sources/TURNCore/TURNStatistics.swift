/// What TURN is doing, summed for `/metrics`. Never per user or per allocation (unbounded label sets).
public struct TURNStatistics: Equatable, Sendable {
    /// Live allocations.
    public var allocations = 0
    /// Live permissions across allocations.
    public var permissions = 0
    /// Live channel bindings across allocations.
    public var channels = 0
    /// Packets and bytes relayed from clients to peers, ended allocations included.
    public var packetsToPeers: UInt64 = 0
    public var bytesToPeers: UInt64 = 0
    /// Packets and bytes relayed from peers to clients, ended allocations included.
    public var packetsToClients: UInt64 = 0
    public var bytesToClients: UInt64 = 0
    /// STUN messages received from clients (requests and indications; not ChannelData).
    public var stunMessages: UInt64 = 0
    /// Requests with wrong long-term credentials.
    public var authenticationFailures: UInt64 = 0

    /// Nothing yet.
    public init() {}

    /// Adds another loop's figures.
    public static func + (lhs: TURNStatistics, rhs: TURNStatistics) -> TURNStatistics {
        var sum = lhs
        sum.allocations += rhs.allocations
        sum.permissions += rhs.permissions
        sum.channels += rhs.channels
        sum.packetsToPeers &+= rhs.packetsToPeers
        sum.bytesToPeers &+= rhs.bytesToPeers
        sum.packetsToClients &+= rhs.packetsToClients
        sum.bytesToClients &+= rhs.bytesToClients
        sum.stunMessages &+= rhs.stunMessages
        sum.authenticationFailures &+= rhs.authenticationFailures
        return sum
    }

    /// Adds an ended allocation's traffic.
    public mutating func add(_ ended: AllocationSummary) {
        packetsToPeers &+= ended.packetsToPeers
        bytesToPeers &+= ended.bytesToPeers
        packetsToClients &+= ended.packetsToClient
        bytesToClients &+= ended.bytesToClient
    }
}

extension TURNServerCore {
    /// The live allocations' figures (the edge adds ended ones and message counts). Walks every allocation: for a
    /// scrape every few seconds, not for the data path.
    public func liveStatistics(now: TURNInstant) -> TURNStatistics {
        var statistics = TURNStatistics()
        statistics.authenticationFailures = authenticationFailures
        let nanos = now.uptimeNanoseconds
        for allocation in allocations.values {
            statistics.allocations += 1
            statistics.permissions += allocation.permissions.values.filter { $0 > nanos }.count
            statistics.channels += allocation.channels.values.filter { $0.expiresAt > nanos }.count
            statistics.packetsToPeers &+= allocation.packetsToPeers
            statistics.bytesToPeers &+= allocation.bytesToPeers
            statistics.packetsToClients &+= allocation.packetsToClient
            statistics.bytesToClients &+= allocation.bytesToClient
        }
        return statistics
    }
}

/// One live allocation, as the admin API lists it.
public struct AllocationSnapshot: Equatable, Sendable {
    /// What it would report if it ended now (identity, addresses, traffic so far).
    public var summary: AllocationSummary
    /// Seconds until it expires unless refreshed.
    public var expiresInSeconds: Int
    /// Live permissions and channel bindings.
    public var permissions: Int
    public var channels: Int
}

extension TURNServerCore {
    /// Every live allocation, for the admin API.
    public func allocationSnapshots(now: TURNInstant) -> [AllocationSnapshot] {
        let nanos = now.uptimeNanoseconds
        return allocations.values.map { allocation in
            AllocationSnapshot(
                summary: allocation.summary,
                expiresInSeconds: allocation.expiresAt > nanos ? Int((allocation.expiresAt - nanos) / 1_000_000_000) : 0,
                permissions: allocation.permissions.values.filter { $0 > nanos }.count,
                channels: allocation.channels.values.filter { $0.expiresAt > nanos }.count)
        }
    }
}
