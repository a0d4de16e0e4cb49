import NIOCore
import NIOWebSocket
import SocketIOProtocol
import Synchronization

/// Writes an Engine.IO session's packets as WebSocket frames straight onto the connection's event loop, with no
/// writer task or queue of its own.
///
/// The bound on what waits unwritten is the one `/ws` keeps: once more than `limit` frames were written since the
/// socket last took everything, the client is a slow consumer and its connection is closed (the connection's
/// ``EngineIOWebSocketHandler`` then ends the session).
final class EngineIOWebSocketSink: Sendable {
    private let channel: any Channel
    private let traffic: SignalingTraffic?
    private let bound: NIOLoopBoundBox<SlowConsumerBound>
    private let stopped = Atomic<Bool>(false)
    private let overflowedFlag = Atomic<Bool>(false)

    /// Writes to `channel`, whose ``EngineIOWebSocketHandler`` runs the close handshake.
    init(channel: any Channel, traffic: SignalingTraffic?, limit: Int) {
        self.channel = channel
        self.traffic = traffic
        self.bound = .makeBoxSendingValue(SlowConsumerBound(limit: limit), eventLoop: channel.eventLoop)
    }

    /// Whether the connection was closed because the client did not read.
    var overflowed: Bool { overflowedFlag.load(ordering: .acquiring) }

    /// Writes packets in order (each hop to the event loop keeps the callers' order).
    func write(_ packets: [EngineIOPacket]) {
        guard !stopped.load(ordering: .relaxed) else { return }
        let frames = packets.map(\.webSocketFrame)
        channel.eventLoop.execute { self.writeOnLoop(frames) }
    }

    private func writeOnLoop(_ frames: [EngineIOPacket.Payload]) {
        guard !overflowed else { return }
        for frame in frames {
            let data: ByteBuffer
            let opcode: WebSocketOpcode
            switch frame {
            case .text(let text):
                data = channel.allocator.buffer(string: text)
                opcode = .text
            case .binary(let bytes):
                data = channel.allocator.buffer(bytes: bytes)
                opcode = .binary
            }
            traffic?.sent(data.readableBytes)
            channel.write(WebSocketFrame(fin: true, opcode: opcode, data: data), promise: nil)
        }
        channel.flush()
        if bound.value.wrote(frames.count, on: channel) {
            overflowedFlag.store(true, ordering: .releasing)
            stopped.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
    }

    /// No more packets: after what was written, the server starts the close handshake.
    func finish() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        // Queued behind the writes already on their way to the loop.
        let channel = channel
        channel.eventLoop.execute {
            channel.triggerUserOutboundEvent(EngineIOWebSocketHandler.CloseRequest(), promise: nil)
        }
    }
}
