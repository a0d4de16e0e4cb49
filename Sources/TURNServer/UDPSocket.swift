import NIOCore
import STUNProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Socket options the relay sockets share, whichever loop binds them.
enum RelaySocketOptions {
    /// IP_MTU_DISCOVER / IPV6_MTU_DISCOVER, set to IP_PMTUDISC_DO (2): the kernel sets DF and never fragments.
    static func dontFragment(_ family: AddressFamily) -> (level: Int32, name: Int32) {
        #if os(Linux)
            family == .ipv4 ? (Int32(IPPROTO_IP), 10) : (Int32(IPPROTO_IPV6), 23)
        #else
            (Int32(IPPROTO_IP), 28)
        #endif
    }

    /// Receive buffer of a relay socket: room for a burst from its peers.
    static let receiveBuffer: Int32 = 1 << 20
}

/// A non-blocking UDP socket descriptor, opened and bound with plain system calls for the UDP relay loops, which
/// do their own reads and writes instead of going through NIO channels.
struct UDPSocket {
    /// Why a socket could not be made.
    struct Failure: Error, CustomStringConvertible {
        var call: String
        var errorNumber: Int32
        var description: String { "\(call): \(String(cString: strerror(errorNumber))) (errno \(errorNumber))" }
    }

    let descriptor: Int32

    /// Opens a socket for `address`'s family and binds it there.
    /// - Parameters:
    ///   - reusePort: SO_REUSEPORT, so every loop's listener shares one port and the kernel spreads clients by hash.
    ///   - receiveBuffer, sendBuffer: SO_RCVBUF / SO_SNDBUF (the kernel caps them at net.core.[rw]mem_max).
    static func bound(
        to address: TransportAddress, reusePort: Bool = false, receiveBuffer: Int32? = nil, sendBuffer: Int32? = nil,
        dontFragment: Bool = false
    ) throws(Failure) -> UDPSocket {
        let family = address.ip.family == .ipv4 ? AF_INET : AF_INET6
        #if os(Linux)
            let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let descriptor = socket(family, SOCK_DGRAM, 0)
        #endif
        guard descriptor >= 0 else { throw Failure(call: "socket", errorNumber: errno) }
        let made = UDPSocket(descriptor: descriptor)
        do throws(Failure) {
            if reusePort {
                try made.set(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
                try made.set(SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT")
            }
            // An IPv6 socket on the wildcard takes IPv4 clients too (they appear mapped); a specific IPv6 address
            // cannot, so only the wildcard stays dual-stack.
            if family == AF_INET6, address.ip != .v6(high: 0, low: 0) {
                try made.set(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY")
            }
            if let receiveBuffer { try made.set(SOL_SOCKET, SO_RCVBUF, receiveBuffer, "SO_RCVBUF") }
            if let sendBuffer { try made.set(SOL_SOCKET, SO_SNDBUF, sendBuffer, "SO_SNDBUF") }
            if dontFragment {
                let option = RelaySocketOptions.dontFragment(address.ip.family)
                try made.set(option.level, option.name, 2, "DONT-FRAGMENT")
            }
            var storage = sockaddr_storage()
            let length = address.write(to: &storage)
            let result = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
            }
            guard result == 0 else { throw Failure(call: "bind \(address)", errorNumber: errno) }
        } catch {
            made.close()
            throw error
        }
        return made
    }

    /// Makes an adopted socket (a reserved port's) a relay: the relay receive buffer, and DF when asked for.
    func becomeRelay(family: AddressFamily, dontFragment: Bool) throws(Failure) {
        try set(SOL_SOCKET, SO_RCVBUF, RelaySocketOptions.receiveBuffer, "SO_RCVBUF")
        guard dontFragment else { return }
        let option = RelaySocketOptions.dontFragment(family)
        try set(option.level, option.name, 2, "DONT-FRAGMENT")
    }

    private func set(_ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(Failure) {
        var value = value
        guard setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw Failure(call: "setsockopt \(label)", errorNumber: errno)
        }
    }

    /// Where the socket is bound (the real port after binding port 0).
    func localAddress() -> TransportAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        return TransportAddress(&storage)
    }

    /// Sends one datagram now; a datagram the socket cannot take is dropped, as UDP may.
    @inline(__always)
    func send(_ bytes: UnsafeRawBufferPointer, to address: TransportAddress, mapToIPv6: Bool = false) {
        var storage = sockaddr_storage()
        let length = address.write(to: &storage, mapToIPv6: mapToIPv6)
        _ = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, length)
            }
        }
    }

    func close() {
        #if canImport(Glibc)
            _ = Glibc.close(descriptor)
        #else
            _ = Darwin.close(descriptor)
        #endif
    }
}
