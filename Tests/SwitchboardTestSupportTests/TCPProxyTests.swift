import NIOCore
import NIOPosix
import SwitchboardTestSupport
import Testing

@Suite("Loopback TCP proxy", .timeLimit(.minutes(1)))
struct TCPProxyTests {
    @Test func forwardsBothWaysAndSeversConnections() async throws {
        let echo = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.pipeline.addHandler(Echo()) }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = try await TCPProxy.start(targetPort: echo.localAddress!.port!)
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: proxy.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await client.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "hello"))
            var iterator = inbound.makeAsyncIterator()
            let reply = try await iterator.next()
            #expect(reply.map { String(buffer: $0) } == "hello")
            await proxy.severAll()
            var ended = false
            do {
                ended = try await iterator.next() == nil
            } catch {
                ended = true  // a reset is reported as an error
            }
            #expect(ended)
        }
        await proxy.stop()
        try await echo.close()
    }
}

private final class Echo: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

@Suite("Manual clock")
struct ManualClockTests {
    @Test func advancesOnlyWhenTold() {
        var clock = ManualClock()
        let start = clock.now
        clock.advance(by: .seconds(3))
        #expect(clock.now.duration(since: start) == .seconds(3))
        #expect(start.duration(since: clock.now) == .zero)
    }
}
