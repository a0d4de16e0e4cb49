import NIOCore
import NIOWebSocket

/// The WebSocket side of a connection a signaling handler serves on its event loop (`/ws`, Engine.IO): whether
/// reading stopped, the close handshake (RFC 6455 §5.5.1, §7.4), and pongs bounded by what the socket takes.
///
/// A class confined to the connection's event loop: its methods write and close, which can call back into the
/// handler that owns it (a close runs `channelInactive`), so it must not be a struct held in exclusive access
/// for the length of a call.
final class WebSocketClosing {
    /// A close frame went out: nothing more is written.
    private(set) var closeSent = false
    /// The client sent a close frame: it is leaving on purpose.
    private(set) var closeReceived = false
    /// No more data frames are read (a message broke a fatal limit, or the connection is closing).
    var stoppedReading = false
    /// How long the client has to answer the server's close frame before the connection is closed.
    let closeTimeout: TimeAmount

    init(closeTimeout: Duration) {
        self.closeTimeout = TimeAmount(closeTimeout)
    }

    /// Answers a ping with its payload, only while the socket takes what is written (RFC 6455 lets a server answer
    /// only the latest ping), so a client that pings without reading cannot grow server memory.
    func answer(ping frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard !closeSent, context.channel.isWritable else { return }
        context.writeAndFlush(NIOAny(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
    }

    /// An error reached the handler: after a decoding error, the WebSocket layer's error handler (before the
    /// signaling handler) has answered with a close frame and closes the connection, so nothing may follow it.
    func caught(_ error: any Error) {
        if error is NIOWebSocketError { stopAll() }
    }

    /// Nothing more is read or written (a close frame went out some other way).
    func stopAll() {
        closeSent = true
        stoppedReading = true
    }

    /// Starts the close handshake: the client answers with its close frame, or the connection is closed after the
    /// close timeout.
    func sendClose(_ code: WebSocketErrorCode, reason: String? = nil, context: ChannelHandlerContext) {
        guard !closeSent else { return }
        context.writeAndFlush(NIOAny(Self.close(code, reason: reason, allocator: context.channel.allocator)), promise: nil)
        stopAll()
        let channel = context.channel
        context.eventLoop.assumeIsolated().scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
    }

    /// The client's close frame: answered (unless the server's went first), and the connection closes.
    func received(close frame: WebSocketFrame, context: ChannelHandlerContext) {
        closeReceived = true
        if !closeSent {
            context.writeAndFlush(NIOAny(Self.reply(to: frame, allocator: context.channel.allocator)), promise: nil)
        }
        stopAll()
        context.close(promise: nil)
    }

    /// A close frame with `code` and an optional reason.
    static func close(_ code: WebSocketErrorCode, reason: String?, allocator: ByteBufferAllocator) -> WebSocketFrame {
        var data = allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(reason) }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    /// The answer to a client's close frame: its status code echoed, or 1002 for one a close frame may not carry.
    static func reply(to frame: WebSocketFrame, allocator: ByteBufferAllocator) -> WebSocketFrame {
        var data = frame.unmaskedData
        var reply = allocator.buffer(capacity: 2)
        switch data.readableBytes {
        case 0:
            break
        case 1:
            reply.write(webSocketErrorCode: .protocolError)
        default:
            let code = data.readInteger(as: UInt16.self)!
            reply.writeInteger(isSendable(closeCode: code) ? code : UInt16(webSocketErrorCode: .protocolError))
        }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: reply)
    }

    /// Whether an endpoint may put `code` in a close frame (RFC 6455 §7.4): the defined codes but 1004–1006 and
    /// 1015, and the registered and private ranges.
    static func isSendable(closeCode code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
