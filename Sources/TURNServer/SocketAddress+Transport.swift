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

    /// Reads a raw IPv4 or IPv6 socket address, as recvmmsg fills it.
    @inline(__always)
    init?(_ storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let v4 = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            self.init(ip: .v4(UInt32(bigEndian: v4.sin_addr.s_addr)), port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            let ip = withUnsafeBytes(of: v6.sin6_addr) { bytes in
                IPAddress.v6(
                    high: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)),
                    low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            self.init(ip: ip, port: UInt16(bigEndian: v6.sin6_port))
        default:
            return nil
        }
    }

    /// Writes this address as a raw socket address and returns its length; `mapToIPv6` writes an IPv4 address in its
    /// `::ffff:` form for an IPv6 socket.
    @inline(__always)
    func write(to storage: UnsafeMutablePointer<sockaddr_storage>, mapToIPv6: Bool = false) -> socklen_t {
        let raw = UnsafeMutableRawPointer(storage)
        switch ip {
        case .v4(let value) where !mapToIPv6:
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            v4.sin_addr.s_addr = value.bigEndian
            raw.storeBytes(of: v4, as: sockaddr_in.self)
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        case .v4(let value):
            return TransportAddress(ip: .v6(high: 0, low: 0xFFFF_0000_0000 | UInt64(value)), port: port).write(to: storage)
        case .v6(let high, let low):
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &v6.sin6_addr) { target in
                target.storeBytes(of: high.bigEndian, as: UInt64.self)
                target.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            raw.storeBytes(of: v6, as: sockaddr_in6.self)
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
    }

    /// The socket address for this transport address (see `write(to:mapToIPv6:)`).
    func socketAddress(mapToIPv6: Bool = false) -> SocketAddress {
        var storage = sockaddr_storage()
        _ = write(to: &storage, mapToIPv6: mapToIPv6)
        return withUnsafeBytes(of: &storage) { raw in
            switch ip {
            case .v4 where !mapToIPv6: SocketAddress(raw.load(as: sockaddr_in.self), host: "")
            default: SocketAddress(raw.load(as: sockaddr_in6.self), host: "")
            }
        }
    }
}
