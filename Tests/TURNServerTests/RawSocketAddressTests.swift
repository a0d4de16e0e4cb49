import Glibc
import NIOCore
import STUNProtocol
import Testing

@testable import TURNServer

/// The raw socket addresses the UDP relay loops read and write, without NIO's `SocketAddress`.
@Suite("Raw socket addresses")
struct RawSocketAddressTests {
    @Test(arguments: ["192.0.2.1", "127.0.0.1", "2001:db8::1", "::1", "fe80::1:2:3:4"])
    func writeThenReadGivesTheSameAddress(_ text: String) throws {
        let address = TransportAddress(ip: try #require(IPAddress(text)), port: 50_123)
        var storage = sockaddr_storage()
        let length = address.write(to: &storage)
        let expected = address.ip.family == .ipv4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
        #expect(Int(length) == expected)
        #expect(TransportAddress(&storage) == address)
        // NIO reads the same bytes as the same address.
        #expect(TransportAddress(address.socketAddress()) == address)
        #expect(address.socketAddress().port == 50_123)
        #expect(address.socketAddress().ipAddress == (try SocketAddress(ipAddress: text, port: 0)).ipAddress)
    }

    @Test func anIPv4AddressForAnIPv6SocketIsWrittenInItsMappedForm() throws {
        let address = TransportAddress(ip: try #require(IPAddress("198.51.100.7")), port: 3478)
        var storage = sockaddr_storage()
        #expect(Int(address.write(to: &storage, mapToIPv6: true)) == MemoryLayout<sockaddr_in6>.size)
        let read = try #require(TransportAddress(&storage))
        #expect(read.ip == IPAddress("::ffff:198.51.100.7"))
        #expect(read.ip.unmapped == address.ip)
        #expect(read.port == 3478)
    }

    @Test func aFamilyOtherThanIPIsNotAnAddress() {
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_UNIX)
        #expect(TransportAddress(&storage) == nil)
    }
}
