import STUNProtocol

/// An address block such as `10.0.0.0/8` or `fe80::/10`.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block.
    public var network: IPAddress
    /// The prefix length in bits.
    public var prefixLength: Int

    /// Parses `address/prefix`, or a bare address as a single-address block. `nil` if malformed, or if bits are set
    /// beyond the prefix (a typo such as `10.0.0.1/8` fails start-up rather than meaning something unintended).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(parts[0]) else { return nil }
        let width = address.family == .ipv4 ? 32 : 128
        var length = width
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...width).contains(value), parts[1].allSatisfy(\.isNumber) else {
                return nil
            }
            length = value
        }
        self.init(network: address, prefixLength: length)
        guard Self.masked(address, prefixLength: length) == address else { return nil }
    }

    /// Creates a block; host bits of `network` beyond the prefix are cleared.
    public init(network: IPAddress, prefixLength: Int) {
        self.network = Self.masked(network, prefixLength: prefixLength)
        self.prefixLength = prefixLength
    }

    /// Whether `address` lies in the block (families must match).
    public func contains(_ address: IPAddress) -> Bool {
        guard address.family == network.family else { return false }
        return Self.masked(address, prefixLength: prefixLength) == network
    }

    static func masked(_ address: IPAddress, prefixLength: Int) -> IPAddress {
        switch address {
        case .v4(let value):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~0 << (32 - min(prefixLength, 32))
            return .v4(value & mask)
        case .v6(let high, let low):
            let highBits = min(prefixLength, 64)
            let lowBits = max(0, prefixLength - 64)
            let highMask: UInt64 = highBits == 0 ? 0 : ~0 << (64 - highBits)
            let lowMask: UInt64 = lowBits == 0 ? 0 : ~0 << (64 - lowBits)
            return .v6(high: high & highMask, low: low & lowMask)
        }
    }

    public var description: String { "\(network)/\(prefixLength)" }
}
