import Logging
import NIOCore
import NIOWebSocket
import SignalingCore
import Synchronization

/// One `/ws` connection as the hub sees it: the sink it writes to, straight onto the connection's event loop.
///
/// The hub encodes each message once into a buffer and the connection's ``WebSocketSignalingHandler`` writes it,
/// with no queue or task in between: on the hub's own loop the write happens in the same call, and from another
/// loop it costs one hop. The handler keeps the slow-consumer bound.
final class WebSocketConnection: ConnectionSink {
    /// Something the handler asks of the connection's task, which owns the WebSocket's close handshake and
    /// runs joins (their gate may wait on a database).
    enum Command: Equatable {
        /// The handler is in place: frames that reached the task before are all there.
        case installed
        /// A join request, as its text frame.
        case join(ByteBuffer)
        /// Close the WebSocket with this code and reason.
        case close(WebSocketErrorCode, reason: String?)
    }

    private let handler: NIOLoopBound<WebSocketSignalingHandler>
    private let eventLoop: any EventLoop
    private let allocator: ByteBufferAllocator
    private let traffic: SignalingTraffic
    private let closedByRequest = Atomic<Bool>(false)
    private let droppedAsSlow = Atomic<Bool>(false)
    /// A per-connection secret that starts every command frame, so no client frame can pass for one.
    let commandPrefix: [UInt8]

    init(handler: NIOLoopBound<WebSocketSignalingHandler>, channel: any Channel, commandPrefix: [UInt8], traffic: SignalingTraffic) {
        self.handler = handler
        self.eventLoop = channel.eventLoop
        self.allocator = channel.allocator
        self.commandPrefix = commandPrefix
        self.traffic = traffic
    }

    /// Whether the hub closed the connection because of one of its requests.
    var wasClosedByOwnRequest: Bool { closedByRequest.load(ordering: .acquiring) }

    /// Whether the handler closed the connection as a slow consumer (its session then waits for a resume).
    var wasDroppedAsSlowConsumer: Bool { droppedAsSlow.load(ordering: .acquiring) }

    /// The handler closes the connection as a slow consumer.
    func droppedAsSlowConsumer() {
        droppedAsSlow.store(true, ordering: .releasing)
    }

    func send(_ message: OutboundMessage) -> Bool {
        let frame = allocator.buffer(string: message.json)
        traffic.sent(frame.readableBytes)
        onLoop { $0.write(frame) }
        return true  // the handler enforces the bound where the backlog is known
    }

    func replay(_ messages: [OutboundMessage]) -> Bool {
        let frames = messages.map { allocator.buffer(string: $0.json) }
        for frame in frames { traffic.sent(frame.readableBytes) }
        onLoop { handler in frames.forEach(handler.write) }
        return true
    }

    func acknowledge(_ acknowledgement: Outbox.Acknowledgement) -> Bool { true }  // `/ws` has no acks

    func close(_ error: SignalingError?) {
        onLoop { $0.close(error) }
    }

    func finish() {}

    func closedByOwnRequest() {
        closedByRequest.store(true, ordering: .releasing)
    }

    private func onLoop(_ body: @escaping @Sendable (WebSocketSignalingHandler) -> Void) {
        if eventLoop.inEventLoop {
            body(handler.value)
        } else {
            eventLoop.execute { body(self.handler.value) }
        }
    }

    /// The task is done with what it was asked (early frames, a join): the handler reads on.
    func resume() {
        onLoop { $0.resume() }
    }

    // MARK: Command frames

    /// The frame that carries `command` to the connection's task.
    func frame(for command: Command) -> WebSocketFrame {
        var buffer = allocator.buffer(capacity: commandPrefix.count + 3)
        buffer.writeBytes(commandPrefix)
        switch command {
        case .installed:
            buffer.writeInteger(UInt8(0))
        case .join(var text):
            buffer.writeInteger(UInt8(1))
            buffer.writeBuffer(&text)
        case .close(let code, let reason):
            buffer.writeInteger(UInt8(2))
            buffer.writeInteger(UInt16(webSocketErrorCode: code))
            if let reason { buffer.writeString(reason) }
        }
        return WebSocketFrame(fin: true, opcode: .binary, data: buffer)
    }

    /// The command a frame that reached the task carries, or `nil` for a client's own frame.
    func command(in data: ByteBuffer) -> Command? {
        var data = data
        guard data.readableBytes > commandPrefix.count, data.readableBytesView.starts(with: commandPrefix) else { return nil }
        data.moveReaderIndex(forwardBy: commandPrefix.count)
        switch data.readInteger(as: UInt8.self) {
        case 0: return .installed
        case 1: return .join(data)
        case 2:
            guard let code = data.readInteger(as: UInt16.self) else { return nil }
            let reason = data.readableBytes > 0 ? data.readString(length: data.readableBytes) : nil
            return .close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
        default: return nil
        }
    }
}
