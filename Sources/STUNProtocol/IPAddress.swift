/// An IPv4 or IPv6 address held by value, so it hashes and compares without allocating.
public enum IPAddress: Hashable, Sendable {
    /// An IPv4 address, big-endian in the integer (192.0.2.1 is 0xC000_0201).
    case v4(UInt32)
    /// An IPv6 address as two big-endian halves.
    case v6(high: UInt64, low: UInt64)

    /// The address family.
    public var family: AddressFamily {
        switch self {
        case .v4: .ipv4
        case .v6: .ipv6
        }
    }

    /// The address in network byte order (4 or 16 bytes).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// Creates an address from 4 or 16 bytes in network order.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            var high: UInt64 = 0
            var low: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }

    /// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 well-known-prefix
    /// prefix (`64:ff9b::a.b.c.d`) IPv6 address, or the address itself.
    ///
    /// Peer policy runs on this form, so `::ffff:127.0.0.1` is judged as 127.0.0.1 (CVE-2026-27624).
    public var unmapped: IPAddress {
        guard case .v6(let high, let low) = self else { return self }
        let isMapped = high == 0 && low >> 32 == 0xFFFF
        let isNAT64 = high == 0x0064_FF9B_0000_0000 && low >> 32 == 0
        if isMapped || isNAT64 { return .v4(UInt32(truncatingIfNeeded: low)) }
        return self
    }
}

/// An address family, with the code points of REQUESTED-ADDRESS-FAMILY and the address attributes.
public enum AddressFamily: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// IPv4 (0x01).
    case ipv4 = 0x01
    /// IPv6 (0x02).
    case ipv6 = 0x02

    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
}

/// An IP address and a port: a transport address in RFC 8489's words.
public struct TransportAddress: Hashable, Sendable, CustomStringConvertible {
    /// The IP address.
    public var ip: IPAddress
    /// The port.
    public var port: UInt16

    /// Creates a transport address.
    public init(ip: IPAddress, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    public var description: String {
        switch ip {
        case .v4: "\(ip):\(port)"
        case .v6: "[\(ip)]:\(port)"
        }
    }
}
