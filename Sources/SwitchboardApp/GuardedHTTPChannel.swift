import ConnectionGuards
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOSSL
import Signaling
import TURNServer

/// HTTP/1.1 with WebSocket upgrades, optionally behind TLS whose certificate is taken per connection (so reloads
/// apply; HummingbirdTLS fixes one context at start), guarded: a connection over its address's limit is refused,
/// one that has not completed its TLS handshake and first request head within the handshake timeout is closed, and
/// a kept-alive one waits at most the HTTP idle timeout for its next request head.
///
/// Its connections are ``AdoptingWebSocketChannel``'s: a WebSocket upgrade a signaling route accepted is served on
/// the event loop, and the connection's task then ends.
struct GuardedHTTPChannel: ServerChildChannel {
    typealias Value = AdoptingWebSocketChannel.Value

    let base: AdoptingWebSocketChannel
    let certificates: TLSContextSource?
    let guardian: ConnectionGuard
    let listener: GuardedListener

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            guard guardian.admit(channel, on: listener) else {
                // A failed set-up alone leaves the socket open: close it, then fail.
                channel.close(promise: nil)
                throw ChannelError.inappropriateOperationForState
            }
            let sync = channel.pipeline.syncOperations
            if let certificates { try sync.addHandler(NIOSSLServerHandler(context: certificates.current())) }
            // After TLS: the head's end is found in the plaintext. Its countdown starts now, at accept.
            try sync.addHandler(FirstRequestDeadlineHandler(guard: guardian, listener: listener))
            try sync.addHandler(WebSocketFramingGuard(guard: guardian, listener: listener, logger: logger))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        var logger = logger
        logger.handler = ClosedBeforeFirstRequestLogFilter(base: logger.handler)
        await base.handle(value: value, logger: logger)
    }
}

/// Closes the connection unless the first request head has fully arrived (after the TLS handshake, if any) within
/// the handshake timeout: partial ClientHellos and slow request lines (slowloris) hold a descriptor for at most that
/// long. Sits before the HTTP decoder and watches the plaintext for the blank line that ends the head, then leaves.
final class FirstRequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var deadline: ConnectionDeadline
    private let timeout: Duration
    private var head = RequestHeadEnd()

    init(guard guardian: ConnectionGuard, listener: GuardedListener) {
        self.deadline = ConnectionDeadline(guard: guardian, listener: listener)
        self.timeout = guardian.settings.handshakeTimeout
    }

    // Added at accept, TLS or not, so the countdown covers the handshake too.
    func handlerAdded(context: ChannelHandlerContext) {
        deadline.arm(timeout, reason: .handshakeTimeout, channel: context.channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let ended = bytes.readableBytesView.contains { head.ends(at: $0) }
        context.fireChannelRead(data)
        if ended {
            deadline.disarm()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    // A closed channel removes its handlers: this covers the end of the connection too.
    func handlerRemoved(context: ChannelHandlerContext) {
        deadline.disarm()
    }
}

/// Finds the blank line that ends an HTTP request head, one byte at a time.
struct RequestHeadEnd {
    /// Line feeds the bytes seen so far end with, carriage returns aside: two end the head ("\r\n\r\n", or a
    /// lenient "\n\n").
    private var newlines = 0

    /// Whether `byte` completes the head.
    mutating func ends(at byte: UInt8) -> Bool {
        guard byte != 13 else { return false }
        newlines = byte == 10 ? newlines + 1 : 0
        return newlines == 2
    }
}

/// Closes a kept-alive HTTP connection whose next request head does not arrive within the idle timeout after a
/// response ends (idle clients, and slow request lines on a reused connection). Only in plain HTTP pipelines: an
/// upgraded WebSocket has its own pings.
final class HTTPKeepAliveDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var deadline: ConnectionDeadline
    private let timeout: Duration

    init(guard guardian: ConnectionGuard, listener: GuardedListener) {
        self.deadline = ConnectionDeadline(guard: guardian, listener: listener)
        self.timeout = guardian.settings.httpIdleTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { deadline.disarm() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { deadline.arm(timeout, reason: .idleTimeout, channel: context.channel) }
        context.write(data, promise: promise)
    }

    // A closed channel removes its handlers: this covers the end of the connection too.
    func handlerRemoved(context: ChannelHandlerContext) {
        deadline.disarm()
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with WebSocket upgrades through `webSocketRouter`, guarded by `guardian`, behind TLS when
    /// `certificates` is given.
    static func guardedWebSocketUpgrade<WebSocketRouter: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: WebSocketRouter, webSocket: WebSocketServerConfiguration, certificates: TLSContextSource?,
        guard guardian: ConnectionGuard
    ) -> HTTPServerBuilder where WebSocketRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let listener: GuardedListener = certificates == nil ? .http : .https
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(additionalChannelHandlers: [HTTPKeepAliveDeadlineHandler(guard: guardian, listener: listener)]),
            ws: webSocket)
        return HTTPServerBuilder { responder in
            GuardedHTTPChannel(
                base: AdoptingWebSocketChannel(
                    base: HTTP1WebSocketUpgradeChannel(
                        responder: responder, webSocketResponder: webSocketResponder, configuration: configuration)),
                certificates: certificates, guardian: guardian, listener: listener)
        }
    }
}

/// hummingbird-websocket logs an error for every connection that closes before its first request head was read:
/// each one a guard closed (a slowloris, a silent client) or a client that gave up. Those are expected, and the
/// guard's counter already has them, so the line goes to debug; any other failure stays an error.
struct ClosedBeforeFirstRequestLogFilter: LogHandler {
    var base: any LogHandler

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }
    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }
    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if event.level == .error, event.message.description == "Error handling upgrade result",
            case .string(let error)? = event.metadata?["error.type"], error == "\(ChannelError.inappropriateOperationForState)"
        {
            guard base.logLevel <= .debug else { return }
            event.level = .debug
        }
        base.log(event: event)
    }
}
