import Logging
import NIOCore
import NIOPosix
import STUNProtocol
import Synchronization
import TURNClient
import TURNCore
import TURNServer
import Testing

/// The real service on loopback sockets, driven by the Swift TURN client.
@Suite("TURN server end to end (UDP, loopback)")
struct TURNServerEndToEndTests {
    static let loopback = IPAddress("127.0.0.1")!
    static let loopback6 = IPAddress("::1")!

    /// Runs a server listening on `host` (UDP and TCP) with relays on IPv4 loopback and, when `relayIPv6`, on ::1;
    /// `body` gets the listener's address on `clientHost`.
    func withServer(
        allowLoopback: Bool, host: String = "127.0.0.1", relayIPv6: Bool = false, clientHost: String = "127.0.0.1",
        _ body: (SocketAddress) async throws -> Void
    ) async throws {
        var core = TURNConfiguration()
        core.realm = "example.test"
        core.relayAddresses[.ipv4] = RelayAddress(bind: Self.loopback)
        if relayIPv6 { core.relayAddresses[.ipv6] = RelayAddress(bind: Self.loopback6) }
        core.peerPolicy = PeerPolicy(allowLoopback: allowLoopback)
        let settings = TURNServerSettings(
            host: host, port: 0, core: core,
            credentials: TURNCredentials(realm: "example.test", users: [("alice", "secretpw"), ("bob", "pw2")]),
            relayPorts: 40000...59999)
        let server = TURNServer(settings: settings, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        let addresses = try await server.start()
        do {
            try await body(try SocketAddress(ipAddress: clientHost, port: addresses.port))
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Alice's client on `localHost`, with what it receives from its relay recorded.
    func recordingClient(of server: SocketAddress, localHost: String) async throws -> (TURNClient, Received) {
        let received = Received()
        let client = try await TURNClient.connect(
            to: server, username: "alice", password: "secretpw", localHost: localHost
        ) { channel, from, payload in
            received.add(channel: channel, peer: from, bytes: Array(payload.readableBytesView))
        }
        return (client, received)
    }

    /// A UDP echo peer on loopback (`::1` for `ipv6`).
    func withEchoPeer(ipv6: Bool = false, _ body: (TransportAddress) async throws -> Void) async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: ipv6 ? "::1" : "127.0.0.1", port: 0).get()
        let port = UInt16(channel.localAddress!.port!)
        do {
            try await body(TransportAddress(ip: ipv6 ? Self.loopback6 : Self.loopback, port: port))
        } catch {
            try? await channel.close()
            throw error
        }
        try? await channel.close()
    }

    /// The UDP listeners share their port among themselves only: a second server on the same port fails to start
    /// instead of silently splitting the clients with the first (SO_REUSEPORT alone would let it in).
    @Test func aSecondServerOnTheSamePortFailsToStart() async throws {
        try await withServer(allowLoopback: false) { server in
            var core = TURNConfiguration()
            core.realm = "example.test"
            core.relayAddresses[.ipv4] = RelayAddress(bind: Self.loopback)
            let second = TURNServer(
                settings: TURNServerSettings(
                    host: "127.0.0.1", port: server.port!, core: core,
                    credentials: TURNCredentials(realm: "example.test", users: [("alice", "secretpw")])),
                group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
            // The UDP claim fails, before any listener of the second server could take a client.
            let error = await #expect(throws: (any Error).self) { _ = try await second.start() }
            #expect("\(error.map { "\($0)" } ?? "")".hasPrefix("bind 127.0.0.1:\(server.port!)"), "\(String(describing: error))")
            await second.stop()
            // The first still answers.
            let client = try await TURNClient.connect(to: server, localHost: "127.0.0.1")
            #expect(try await client.binding().ip == Self.loopback)
            await client.close()
        }
    }

    @Test func bindingReturnsTheReflexiveAddress() async throws {
        try await withServer(allowLoopback: false) { server in
            let client = try await TURNClient.connect(to: server, localHost: "127.0.0.1")
            let mapped = try await client.binding()
            #expect(mapped.ip == Self.loopback)
            #expect(Int(mapped.port) == client.channel.localAddress?.port)
            await client.close()
        }
    }

    @Test func channelDataAndIndicationsRoundTripThroughTheRelay() async throws {
        try await withServer(allowLoopback: true) { server in
            try await withEchoPeer { peer in
                let (client, received) = try await recordingClient(of: server, localHost: "127.0.0.1")
                let relayed = try await client.allocate()
                #expect(relayed.ip == Self.loopback)
                try await client.createPermission(peer)
                client.sendIndication(to: peer, ByteBuffer(bytes: [1, 2, 3]))
                try await received.wait(count: 1)
                #expect(received.items.first?.peer == peer)
                #expect(received.items.first?.bytes == [1, 2, 3])
                try await client.channelBind(0x4001, to: peer)
                for index in 0..<50 { client.sendChannelData(0x4001, ByteBuffer(bytes: [UInt8(index), 9, 9])) }
                try await received.wait(count: 51)
                #expect(received.items.dropFirst().allSatisfy { $0.channel == 0x4001 })
                try await client.refresh(lifetime: 0)
                await client.close()
            }
        }
    }

    /// A client on IPv6 with an IPv6 relay and an IPv6 peer: both directions, ChannelData and indications.
    @Test func ipv6ClientRelayAndPeer() async throws {
        try await withServer(allowLoopback: true, host: "::1", relayIPv6: true, clientHost: "::1") { server in
            try await withEchoPeer(ipv6: true) { peer in
                let (client, received) = try await recordingClient(of: server, localHost: "::1")
                #expect(try await client.binding().ip == Self.loopback6)
                let relayed = try await client.allocate(family: .ipv6)
                #expect(relayed.ip == Self.loopback6)
                try await client.createPermission(peer)
                client.sendIndication(to: peer, ByteBuffer(bytes: [1, 2, 3, 4, 5]))
                try await received.wait(count: 1)
                #expect(received.items.first?.peer == peer)
                #expect(received.items.first?.bytes == [1, 2, 3, 4, 5])
                try await client.channelBind(0x4002, to: peer)
                client.sendChannelData(0x4002, ByteBuffer(bytes: [8, 8]))
                try await received.wait(count: 2)
                #expect(received.items.last?.channel == 0x4002)
                #expect(received.items.last?.bytes == [8, 8])
                await client.close()
            }
        }
    }

    /// A listener on the IPv6 wildcard also serves IPv4 clients (they reach it as `::ffff:` addresses), and answers
    /// and relays to them at their IPv4 address.
    @Test func dualStackListenerServesIPv4Clients() async throws {
        try await withServer(allowLoopback: true, host: "::") { server in
            try await withEchoPeer { peer in
                let (client, received) = try await recordingClient(of: server, localHost: "127.0.0.1")
                let mapped = try await client.binding()
                #expect(mapped.ip == Self.loopback)
                #expect(Int(mapped.port) == client.channel.localAddress?.port)
                _ = try await client.allocate()
                try await client.channelBind(0x4003, to: peer)
                for index in 0..<20 { client.sendChannelData(0x4003, ByteBuffer(bytes: [UInt8(index)])) }
                try await received.wait(count: 20)
                #expect(received.items.map(\.bytes) == (0..<20).map { [UInt8($0)] })
                await client.close()
            }
        }
    }

    @Test func loopbackPeerIsForbiddenByDefault() async throws {
        try await withServer(allowLoopback: false) { server in
            try await withEchoPeer { peer in
                let client = try await TURNClient.connect(to: server, username: "alice", password: "secretpw", localHost: "127.0.0.1")
                _ = try await client.allocate()
                await #expect(throws: TURNClientError.errorResponse(.createPermission, code: 403, reason: "Forbidden")) {
                    try await client.createPermission(peer)
                }
                await #expect(throws: TURNClientError.errorResponse(.createPermission, code: 403, reason: "Forbidden")) {
                    try await client.createPermission(TransportAddress(ip: IPAddress("::ffff:127.0.0.1")!, port: peer.port))
                }
                await client.close()
            }
        }
    }

    @Test func twoClientsReachEachOtherRelayToRelayWithoutLoopbackAllowed() async throws {
        try await withServer(allowLoopback: false) { server in
            let toB = Received()
            let a = try await TURNClient.connect(to: server, username: "alice", password: "secretpw", localHost: "127.0.0.1")
            let b = try await TURNClient.connect(to: server, username: "bob", password: "pw2", localHost: "127.0.0.1") { c, p, d in
                toB.add(channel: c, peer: p, bytes: Array(d.readableBytesView))
            }
            let relayA = try await a.allocate()
            let relayB = try await b.allocate()
            try await a.channelBind(0x4000, to: relayB)
            try await b.createPermission(relayA)
            a.sendChannelData(0x4000, ByteBuffer(bytes: [7, 7, 7]))
            try await toB.wait(count: 1)
            #expect(toB.items.first?.peer == relayA)
            await a.close()
            await b.close()
        }
    }
}

final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(wrapOutboundOut(unwrapInboundIn(data)), promise: nil)
    }
}

/// What a client received from its relay, in order.
final class Received: Sendable {
    struct Item: Sendable {
        var channel: UInt16?
        var peer: TransportAddress?
        var bytes: [UInt8]
    }

    private let state = Mutex<[Item]>([])

    func add(channel: UInt16?, peer: TransportAddress?, bytes: [UInt8]) {
        state.withLock { $0.append(Item(channel: channel, peer: peer, bytes: bytes)) }
    }

    var items: [Item] { state.withLock { $0 } }

    /// Waits (bounded: 30 s) until `count` items arrived. The client and the echo peer share the test process's event
    /// loops with the load tests that run beside them, which held them up for up to 7 s in full runs (the kernel
    /// counted no datagram lost on loopback); a 5 s bound failed about one full run in five.
    func wait(count: Int) async throws {
        for _ in 0..<3000 {
            if items.count >= count { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("received \(items.count) of \(count)")
        throw TURNClientError.timeout(.data)
    }
}
