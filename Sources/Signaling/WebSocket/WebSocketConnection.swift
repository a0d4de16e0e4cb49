import NIOCore
import SignalingCore

/// One `/ws` connection as the hub sees it: the sink it writes to, straight onto the connection's event loop.
///
/// The hub hands each message to the connection's ``WebSocketSignalingHandler``, which encodes and writes it, with
/// no queue or task in between: inline when the connection is on the hub's loop (as `SignalingLoop` arranges),
/// else one hop onto the connection's loop. The handler keeps the slow-consumer bound.
final class WebSocketConnection: ConnectionSink {
    private let handler: NIOLoopBound<WebSocketSignalingHandler>
    private let eventLoop: any EventLoop

    init(handler: NIOLoopBound<WebSocketSignalingHandler>, channel: any Channel) {
        self.handler = handler
        self.eventLoop = channel.eventLoop
    }

    func send(_ message: OutboundMessage) -> Bool {
        onLoop { $0.write(message) }
        return true  // the handler enforces the bound, where the backlog is known
    }

    func replay(_ messages: [OutboundMessage]) -> Bool {
        onLoop { handler in
            for message in messages { handler.write(message, counts: false) }
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
