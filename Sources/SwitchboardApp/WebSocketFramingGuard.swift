import ConnectionGuards
import Logging
import NIOCore

/// Closes a WebSocket connection with status 1002 when the client breaks a framing rule the WebSocket decoder lets
/// pass (unmasked frames, stray continuations, a data frame inside a fragmented message: RFC 6455 §5.1, §5.4).
///
/// Sits before the HTTP decoder, in the plaintext: it reads the first request head, and leaves at once unless the
/// head asks for a WebSocket. Then it scans the client's frames (``WebSocketFrameScanner``), and leaves if the
/// server's answer is not `101 Switching Protocols`.
final class WebSocketFramingGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Phase {
        case head
        case awaitingAnswer
        case upgraded
        case closed
    }

    private let guardian: ConnectionGuard
    private let listener: GuardedListener
    private let logger: Logger
    private var phase = Phase.head
    private var headEnd = RequestHeadEnd()
    private var mentionsWebSocket = KeywordMatch("websocket")
    private var scanner = WebSocketFrameScanner()
    /// A rule broken before the server answered the upgrade.
    private var pendingViolation: WebSocketFrameScanner.Violation?

    init(guard guardian: ConnectionGuard, listener: GuardedListener, logger: Logger) {
        self.guardian = guardian
        self.listener = listener
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        switch phase {
        case .head:
            var frames: Int?
            for (offset, byte) in bytes.readableBytesView.enumerated() {
                mentionsWebSocket.feed(byte)
                if headEnd.ends(at: byte) {
                    frames = offset + 1
                    break
                }
            }
            context.fireChannelRead(data)
            guard let frames else { return }
            guard mentionsWebSocket.found else {
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
            phase = .awaitingAnswer
            bytes.withUnsafeReadableBytes { raw in
                pendingViolation = scanner.scan(UnsafeRawBufferPointer(rebasing: raw[frames...]))
            }
        case .awaitingAnswer:
            if pendingViolation == nil { pendingViolation = bytes.withUnsafeReadableBytes { scanner.scan($0) } }
            context.fireChannelRead(data)
        case .upgraded:
            if let violation = bytes.withUnsafeReadableBytes({ scanner.scan($0) }) {
                return refuse(violation, context: context)
            }
            context.fireChannelRead(data)
        case .closed:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard phase != .closed else {
            // Nothing may follow the close frame this guard sent; the connection is closing.
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if phase == .awaitingAnswer, case .byteBuffer(let answer) = unwrapOutboundIn(data) {
            let switching = answer.readableBytesView.starts(with: "HTTP/1.1 101".utf8)
            context.write(data, promise: promise)
            guard switching else {
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
            phase = .upgraded
            if let pendingViolation { refuse(pendingViolation, context: context) }
            return
        }
        context.write(data, promise: promise)
    }

    private func refuse(_ violation: WebSocketFrameScanner.Violation, context: ChannelHandlerContext) {
        phase = .closed
        guardian.count(.protocolError, on: listener)
        logger.notice(
            "closing WebSocket: protocol error",
            metadata: [
                "ws.close": "1002", "ws.error": "\(violation.rawValue)", "net.address": "\(context.remoteAddress?.ipAddress ?? "?")",
            ])
        // A close frame (unmasked: from the server) with status 1002, then the connection ends.
        let channel = context.channel
        let close = channel.allocator.buffer(bytes: [0x88, 0x02, 0x03, 0xEA])
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(close))).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Whether a word appears in a byte stream, letters compared without case.
struct KeywordMatch {
    private let word: [UInt8]
    private var matched = 0

    init(_ word: String) {
        self.word = Array(word.lowercased().utf8)
    }

    /// Whether the word has appeared.
    var found: Bool { matched == word.count }

    mutating func feed(_ byte: UInt8) {
        guard !found else { return }
        let lower = (65...90).contains(byte) ? byte + 32 : byte
        matched = lower == word[matched] ? matched + 1 : (lower == word[0] ? 1 : 0)
    }
}
