import NIOCore
import SignalingCore

/// One `/ws` connection as the hub sees it: the sink it writes to, straight onto the connection's event loop.
///
/// The hub encodes each message once into a buffer and the connection's ``WebSocketSignalingHandler`` writes it,
/// with no queue or task in between: on the hub's own loop the write happens in the same call, and from another
/// loop it costs one hop. The handler keeps the slow-consumer bound.
final class WebSocketConnection: ConnectionSink {
    private let handler: NIOLoopBound<WebSocketSignalingHandler>
    private let eventLoop: any EventLoop
    private let allocator: ByteBufferAllocator
    private let traffic: SignalingTraffic

    init(handler: NIOLoopBound<WebSocketSignalingHandler>, channel: any Channel, traffic: SignalingTraffic) {
        self.handler = handler
        self.eventLoop = channel.eventLoop
        self.allocator = channel.allocator
        self.traffic = traffic
    }

    func send(_ message: OutboundMessage) -> Bool {
        let frame = allocator.buffer(string: message.json)
        traffic.sent(frame.readableBytes)
        onLoop { $0.write(frame) }
        return true  // the handler enforces the bound, where the backlog is known
    }

    func replay(_ messages: [OutboundMessage]) -> Bool {
        let frames = messages.map { allocator.buffer(string: $0.json) }
        for frame in frames { traffic.sent(frame.readableBytes) }
        onLoop { handler in
            for frame in frames { handler.write(frame, counts: false) }
        }
        return true
    }

    func acknowledge(_ acknowledgement: Outbox.Acknowledgement) -> Bool { true }  // `/ws` has no acks

    func close(_ error: SignalingError?) {
        onLoop { $0.close(error) }
    }

    func finish() {}

    func closedByOwnRequest() {
        onLoop { $0.closedByOwnRequest() }
    }

    private func onLoop(_ body: @escaping @Sendable (WebSocketSignalingHandler) -> Void) {
        if eventLoop.inEventLoop {
            body(handler.value)
        } else {
            eventLoop.execute { body(self.handler.value) }
        }
    }
}
