import SignalingCore
import Testing

@testable import Signaling

/// A Socket.IO session that upgrades moves from its outbox to a direct way out: the outbox's writer must see
/// everything queued before the switch, then learn which sink took over.
@Suite("Outbox hand-over")
struct OutboxHandOverTests {
    /// A sink that takes everything (only its identity matters here).
    final class SuccessorSink: ConnectionSink {
        func send(_ message: OutboundMessage) -> Bool { true }
        func replay(_ messages: [OutboundMessage]) -> Bool { true }
        func acknowledge(_ acknowledgement: Outbox.Acknowledgement) -> Bool { true }
        func close(_ error: SignalingError?) {}
        func finish() {}
        func closedByOwnRequest() {}
    }

    func message(_ seq: UInt64) -> OutboundMessage {
        OutboundMessage(seq: seq, message: .pong(requestID: .integer(Int64(seq))))
    }

    @Test func theWriterDrainsWhatWasQueuedThenFindsTheSuccessor() async {
        let outbox = Outbox(limit: 10)
        for seq: UInt64 in 1...3 { #expect(outbox.send(message(seq))) }
        let successor = SuccessorSink()
        outbox.handOver(to: successor)
        var drained: [UInt64] = []
        for await item in outbox.items {
            if case .message(let message) = item { drained.append(message.seq ?? 0) }
            outbox.didWrite()
        }
        #expect(drained == [1, 2, 3])
        #expect(outbox.handedOverTo === successor)
        #expect(!outbox.isAborted)
    }

    @Test func anOutboxThatEndedOtherwiseHasNoSuccessor() async {
        let outbox = Outbox(limit: 10)
        #expect(outbox.send(message(1)))
        outbox.finish()
        for await _ in outbox.items {}
        #expect(outbox.handedOverTo == nil)
    }
}
