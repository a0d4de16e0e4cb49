import NIOCore
import STUNProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension TransportAddress {
    /// Reads an IP socket address without going through text, so the data path stays cheap.
    @inlinable
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            self.init(
                ip: .v4(UInt32(bigEndian: v4.address.sin_addr.s_addr)), port: UInt16(bigEndian: v4.address.sin_port))
        case .v6(let v6):
            let ip = withUnsafeBytes(of: v6.address.sin6_addr) { IPAddress(bytes: $0)! }
            self.init(ip: ip, port: UInt16(bigEndian: v6.address.sin6_port))
        default:
            return nil
        }
    }

    /// The socket address for this transport address; `mapToIPv6` writes an IPv4 address in its `::ffff:` form for
    /// an IPv6 socket.
    func socketAddress(mapToIPv6: Bool = false) -> SocketAddress {
        switch ip {
        case .v4(let value) where !mapToIPv6:
            var raw = sockaddr_in()
            raw.sin_family = sa_family_t(AF_INET)
            raw.sin_port = port.bigEndian
            raw.sin_addr.s_addr = value.bigEndian
            return SocketAddress(raw, host: "")
        case .v4(let value):
            return TransportAddress(ip: .v6(high: 0, low: 0xFFFF_0000_0000 | UInt64(value)), port: port).socketAddress()
        case .v6:
            var raw = sockaddr_in6()
            raw.sin6_family = sa_family_t(AF_INET6)
            raw.sin6_port = port.bigEndian
            let bytes = ip.bytes
            withUnsafeMutableBytes(of: &raw.sin6_addr) { target in
                for index in 0..<16 { target[index] = bytes[index] }
            }
            return SocketAddress(raw, host: "")
        }
    }
}
