import Glibc
import STUNProtocol
import TURNClient
import TURNCore
import Testing

/// RFC 8656 §7.2, EVEN-PORT with R: the server keeps port+1 bound from the reservation until its token is redeemed,
/// as coturn does, so no other process can take it in between (that made the redeeming Allocate fail with 508).
@Suite("EVEN-PORT reservations hold their port (real server, UDP, loopback)")
struct EvenPortReservationTests {
    /// Whether a plain UDP socket (no SO_REUSEADDR or SO_REUSEPORT), as any other process would open, can bind
    /// 127.0.0.1:`port`.
    static func anotherProcessCouldBind(_ port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }

    @Test func theReservedPortStaysBoundUntilItsTokenIsRedeemed() async throws {
        try await TURNServerEndToEndTests().withServer(allowLoopback: false) { server in
            let alice = try await TURNClient.connect(to: server, username: "alice", password: "secretpw", localHost: "127.0.0.1")
            let first = try await alice.authenticatedRequest(.allocate) { message in
                message.add(RequestedTransport(protocolNumber: RequestedTransport.udp))
                message.add(EvenPort(reserveNextPort: true))
            }
            let relayed = try #require(try first.message.get(XORRelayedAddress.self)).address
            let token = try #require(try first.message.get(ReservationToken.self))
            #expect(relayed.port % 2 == 0)
            #expect(!Self.anotherProcessCouldBind(relayed.port + 1), "the reserved port \(relayed.port + 1) was free to take")

            let bob = try await TURNClient.connect(to: server, username: "bob", password: "pw2", localHost: "127.0.0.1")
            let second = try await bob.authenticatedRequest(.allocate) { message in
                message.add(RequestedTransport(protocolNumber: RequestedTransport.udp))
                message.add(token)
            }
            let redeemed = try #require(try second.message.get(XORRelayedAddress.self)).address
            #expect(redeemed.port == relayed.port + 1)
            // Redeemed once: the same token again is 508.
            let carol = try await TURNClient.connect(to: server, username: "alice", password: "secretpw", localHost: "127.0.0.1")
            let again = await #expect(throws: TURNClientError.self) {
                _ = try await carol.authenticatedRequest(.allocate) { message in
                    message.add(RequestedTransport(protocolNumber: RequestedTransport.udp))
                    message.add(token)
                }
            }
            #expect("\(String(describing: again))".contains("508"), "\(String(describing: again))")
            // Bob's relay, not a held socket, has the port now: releasing it frees the port.
            try await bob.refresh(lifetime: 0)
            try await waitUntil { Self.anotherProcessCouldBind(relayed.port + 1) }
            for client in [alice, bob, carol] { await client.close() }
        }
    }

    /// Polls `condition` for up to 10 s (the relay closes on its event loop after the Refresh is answered).
    func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<200 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("condition not met within 10 s")
    }
}
