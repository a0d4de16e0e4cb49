import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SwitchboardClient

/// The peers of `bench signaling` and `bench socketio` served by channel handlers on one event loop, with no task,
/// actor or stream per connection: the same load as the task-based peers (join a room of two, paced messages to the
/// partner, an end marker; on `/ws` an ack every 2 s), checked the same way. ``EventLoopBenchmarkDialect`` is what
/// differs between the protocols.
///
/// The SDK keeps an actor, two tasks and two `AsyncStream`s per connection: at 10,000 connections at 1 msg/s
/// the generator took 1.1 of the two cores the server shares, so the server's latency tail measured the
/// generator's queueing as much as its own. Everything here is confined to one loop, so it needs no locks.
final class EventLoopBenchmark {
    /// One peer's connection and progress.
    final class Peer {
        let index: Int
        let room: String
        let url: URL
        var channel: (any Channel)?
        var partner: String?
        var stats = SignalingBenchmark.PeerStats()
        /// The highest sequence number received, acknowledged every 2 s as the SDK does.
        var lastSeq: UInt64 = 0
        var expected: Int64 = 0
        var passedReady = false
        var passedDone = false
        var sendingFinished = false
        var receivingFinished = false
        var acknowledgements: RepeatedTask?

        init(index: Int, room: String, url: URL) {
            self.index = index
            self.room = room
            self.url = url
        }
    }

    private let settings: SignalingBenchmark
    private let dialect: EventLoopBenchmarkDialect
    private let loop: any EventLoop
    private let promise: EventLoopPromise<SignalingBenchmarkResult>
    private let padding: String
    private var peers: [Peer] = []
    private var ready = 0
    private var done = 0
    private var finished = false
    private let epoch = NIODeadline.now()
    private var server: ServerSampler

    private init(settings: SignalingBenchmark, dialect: EventLoopBenchmarkDialect, loop: any EventLoop) {
        self.settings = settings
        self.dialect = dialect
        self.loop = loop
        self.promise = loop.makePromise()
        self.padding = String(repeating: "x", count: settings.payloadBytes)
        self.server = ServerSampler(pid: settings.serverPID)
    }

    /// Runs the load on an event loop of its own and reports it.
    static func run(_ settings: SignalingBenchmark, dialect: EventLoopBenchmarkDialect) async throws -> SignalingBenchmarkResult {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let run = loop.flatSubmit {
            let benchmark = EventLoopBenchmark(settings: settings, dialect: dialect, loop: loop)
            benchmark.start()
            return benchmark.promise.futureResult
        }
        let result: Result<SignalingBenchmarkResult, any Error>
        do {
            result = .success(try await run.get())
        } catch {
            result = .failure(error)
        }
        try await group.shutdownGracefully()
        return try result.get()
    }

    private func start() {
        for index in 0..<settings.connections {
            let text = index % 2 == 1 ? settings.secondURL ?? settings.url : settings.url
            guard let url = URL(string: text), url.scheme == "ws", let host = url.host else {
                promise.fail(EventLoopBenchmarkError("not a ws:// URL (this generator speaks no TLS): \(text)"))
                return
            }
            let peer = Peer(index: index, room: "\(settings.roomPrefix)-\(index / 2)", url: url)
            peers.append(peer)
            let delay = TimeAmount.nanoseconds(Int64(Double(index) / settings.connectRate * 1e9))
            let bound = NIOLoopBound(self, eventLoop: loop)
            let boundPeer = NIOLoopBound(peer, eventLoop: loop)
            loop.scheduleTask(in: delay) { bound.value.connect(peer: boundPeer, host: host) }
        }
        // A peer that never learns its partner (no answer, a refused join) is given up on, so the run ends.
        let bound = NIOLoopBound(self, eventLoop: loop)
        let joinDeadline = TimeAmount.seconds(Int64(Double(settings.connections) / settings.connectRate) + 60)
        loop.scheduleTask(in: joinDeadline) {
            for peer in bound.value.peers where !peer.passedReady { bound.value.fail(peer, "join timeout") }
        }
    }

    private func connect(peer bound: NIOLoopBound<Peer>, host: String) {
        let peer = bound.value
        let port = peer.url.port ?? 80
        let path = dialect.path(of: peer.url)
        let benchmark = NIOLoopBound(self, eventLoop: loop)
        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20, automaticErrorHandling: false) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                let pipeline = channel.pipeline.syncOperations
                try pipeline.removeHandler(pipeline.handler(type: UpgradeRequestHandler.self)).assumeIsolated().whenFailure { _ in }
                try pipeline.addHandler(LightPeerHandler(benchmark: benchmark.value, peer: bound.value))
            }
        }
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let request = UpgradeRequestHandler(
                        host: "\(host):\(port)", path: path, benchmark: benchmark.value, peer: bound.value)
                    // A server may write right after its 101 (Engine.IO's open packet), often in the same segment:
                    // those bytes must reach the WebSocket decoder, not be dropped with the HTTP handlers.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes, withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
            .connect(host: host, port: port)
            .whenFailure { error in benchmark.value.fail(bound.value, "connect: \(error)") }
    }

    // MARK: Events from a peer's handler

    /// The WebSocket is open: join (or wait for the server's open, on Socket.IO), and acknowledge every 2 s from now on.
    func upgraded(_ peer: Peer, context: ChannelHandlerContext) {
        if let opening = dialect.opening(room: peer.room) { send(opening, on: context.channel) }
        guard dialect.acknowledgement(lastSeq: 0) != nil else { return }
        let bound = NIOLoopBound(self, eventLoop: loop)
        let boundPeer = NIOLoopBound(peer, eventLoop: loop)
        peer.acknowledgements = loop.scheduleRepeatedTask(initialDelay: .seconds(2), delay: .seconds(2)) { _ in
            let peer = boundPeer.value
            guard let channel = peer.channel, !peer.passedDone,
                let acknowledgement = bound.value.dialect.acknowledgement(lastSeq: peer.lastSeq)
            else { return }
            bound.value.send(acknowledgement, on: channel)
        }
    }

    /// A text frame from the server.
    func received(_ frame: ByteBuffer, from peer: Peer, on channel: any Channel) {
        for heard in dialect.heard(frame, room: peer.room) {
            switch heard {
            case .reply(let text): send(text, on: channel)
            case .partner(let partner): if peer.partner == nil { partnerKnown(partner, peer: peer) }
            case .data(let data): messageReceived(data, peer: peer)
            case .sequence(let seq): peer.lastSeq = max(peer.lastSeq, seq)
            case .error(let kind):
                peer.stats.recordError(kind)
                if !peer.passedReady { fail(peer, nil) }
            }
        }
    }

    /// The connection ended; a peer that was not done by then has lost what was still to come.
    func closed(_ peer: Peer) {
        peer.channel = nil
        peer.acknowledgements?.cancel()
        guard !peer.passedDone else { return }
        fail(peer, "closed")
    }

    // MARK: The run

    private func partnerKnown(_ partner: String, peer: Peer) {
        peer.partner = partner
        arriveReady(peer)
    }

    private func arriveReady(_ peer: Peer) {
        guard !peer.passedReady else { return }
        peer.passedReady = true
        ready += 1
        guard ready == peers.count, peers.count == settings.connections else { return }
        // Every peer has joined (or failed): memory of idle connections, and the CPU clock starts.
        server.sendingStarted()
        let start = NIODeadline.now()
        let end = start + TimeAmount(settings.duration)
        for peer in peers where !peer.passedDone {
            let interval = 1 / settings.rate
            // Spread peers over the interval so they do not send in lockstep, as the SDK peers do.
            let first = start + .nanoseconds(Int64(interval * Double(peer.index % 97) / 97 * 1e9))
            schedule(peer, at: first, interval: .nanoseconds(Int64(interval * 1e9)), end: end)
        }
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.scheduleTask(deadline: end + TimeAmount(settings.drain)) {
            for peer in bound.value.peers where !peer.passedDone { bound.value.arriveDone(peer) }
        }
    }

    private func schedule(_ peer: Peer, at deadline: NIODeadline, interval: TimeAmount, end: NIODeadline) {
        let bound = NIOLoopBound(self, eventLoop: loop)
        let boundPeer = NIOLoopBound(peer, eventLoop: loop)
        loop.scheduleTask(deadline: deadline) {
            let peer = boundPeer.value
            guard let channel = peer.channel, let partner = peer.partner, !peer.passedDone else { return }
            guard deadline < end else {
                // Per-sender order means that once the marker arrives, nothing else is in flight.
                let marker = bound.value.dialect.message(#"{"done":\#(peer.stats.sent)}"#, partner: partner, room: peer.room)
                bound.value.send(marker, on: channel)
                peer.sendingFinished = true
                bound.value.arriveDoneIfFinished(peer)
                return
            }
            let sentAt = NIODeadline.now().uptimeNanoseconds - bound.value.epoch.uptimeNanoseconds
            let data = #"{"n":\#(peer.stats.sent),"t":\#(sentAt),"pad":"\#(bound.value.padding)"}"#
            bound.value.send(bound.value.dialect.message(data, partner: partner, room: peer.room), on: channel)
            peer.stats.sent += 1
            bound.value.schedule(peer, at: deadline + interval, interval: interval, end: end)
        }
    }

    private func messageReceived(_ data: JSONValue, peer: Peer) {
        guard peer.passedReady, !peer.receivingFinished else { return }
        if data["done"] != nil {
            peer.receivingFinished = true
            if peer.index == 0 { server.sample() }
            arriveDoneIfFinished(peer)
            return
        }
        let now = NIODeadline.now().uptimeNanoseconds - epoch.uptimeNanoseconds
        guard let number = data["n"]?.integerValue, let sentAt = data["t"]?.integerValue else { return }
        if number != peer.expected { peer.stats.outOfOrder += 1 }
        peer.expected = number + 1
        peer.stats.received += 1
        peer.stats.latenciesNanoseconds.append(now &- UInt64(sentAt))
    }

    private func arriveDoneIfFinished(_ peer: Peer) {
        if peer.sendingFinished, peer.receivingFinished { arriveDone(peer) }
    }

    /// Gives up on a peer: it passes both barriers so the others are not held up.
    func fail(_ peer: Peer, _ kind: String?) {
        if let kind { peer.stats.recordError(kind) }
        arriveReady(peer)
        arriveDone(peer)
    }

    private func arriveDone(_ peer: Peer) {
        guard !peer.passedDone else { return }
        peer.passedDone = true
        done += 1
        guard done == settings.connections, !finished else { return }
        finished = true
        server.sendingEnded()
        // Nobody left before everyone was done; now everyone leaves with a close frame, as the SDK does.
        let closings = peers.compactMap(\.channel).map { channel in
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: closeCode(channel)))
                .flatMap { channel.close() }
        }
        let bound = NIOLoopBound(self, eventLoop: loop)
        EventLoopFuture.andAllComplete(closings, on: loop).whenComplete { _ in bound.value.report() }
        // A server that stops reading would hold the close writes forever: the report does not wait for them long.
        loop.scheduleTask(in: .seconds(5)) { bound.value.report() }
    }

    private var reported = false

    private func report() {
        guard !reported else { return }
        reported = true
        promise.succeed(settings.result(peers.map(\.stats), server: server))
    }

    private func closeCode(_ channel: any Channel) -> ByteBuffer {
        var buffer = channel.allocator.buffer(capacity: 2)
        buffer.writeInteger(UInt16(1000))
        return buffer
    }

    fileprivate func send(_ text: String, on channel: any Channel) {
        let buffer = channel.allocator.buffer(string: text)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer), promise: nil)
    }
}

/// Why the light load generator could not run.
struct EventLoopBenchmarkError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Sends the HTTP request that the WebSocket upgrade answers, and reports an answer that is not the upgrade or a
/// connection that closed before it; the upgrade removes it.
private final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private let path: String
    private let benchmark: EventLoopBenchmark
    private let peer: EventLoopBenchmark.Peer
    /// Whether this peer's failure was counted (once per peer).
    private var reported = false

    init(host: String, path: String, benchmark: EventLoopBenchmark, peer: EventLoopBenchmark.Peer) {
        self.host = host
        self.path = path
        self.benchmark = benchmark
        self.peer = peer
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only a response that is not the upgrade gets here (a 101 is consumed by the upgrade handler).
        if case .head(let head) = unwrapInboundIn(data), !reported {
            reported = true
            benchmark.fail(peer, "upgrade refused: \(head.status.code)")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The peer's own handler reports a WebSocket that closes; this one, a connection that never became one.
        if !reported { benchmark.fail(peer, "upgrade failed") }
        reported = true
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// One peer's WebSocket: answers the server's WebSocket pings and hands every text frame to the benchmark.
private final class LightPeerHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let benchmark: EventLoopBenchmark
    private let peer: EventLoopBenchmark.Peer

    init(benchmark: EventLoopBenchmark, peer: EventLoopBenchmark.Peer) {
        self.benchmark = benchmark
        self.peer = peer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        peer.channel = context.channel
        benchmark.upgraded(peer, context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            benchmark.received(frame.unmaskedData, from: peer, on: context.channel)
        case .ping:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        benchmark.closed(peer)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        peer.stats.recordError("transport: \(error)")
        context.close(promise: nil)
    }
}
