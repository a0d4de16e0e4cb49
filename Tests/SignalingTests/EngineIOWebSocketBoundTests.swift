import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import SignalingCore
import SwitchboardApp
import SwitchboardTestSupport
import Testing

/// Engine.IO's WebSocket transport writes straight onto the connection's event loop; what waits unwritten for a
/// client that stops reading is bounded, as on `/ws`: the server closes the connection instead of queueing.
@Suite("Engine.IO WebSocket bound", .timeLimit(.minutes(2)))
struct EngineIOWebSocketBoundTests {
    @Test func aSocketIOClientThatStopsReadingIsDisconnected() async throws {
        try await withRunningSwitchboard(configure: {
            $0.engineIO.maximumQueuedPackets = 4
            $0.signaling.messageBurst = 100_000
            $0.signaling.messageRate = 100_000
        }) { port in
            let pad = String(repeating: "x", count: 60_000)
            let sent = 400
            let (joinedStream, joined) = AsyncStream.makeStream(of: Void.self)
            let (floodedStream, flooded) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // A raw Socket.IO client over the WebSocket transport: open, CONNECT, join, then no reading.
                    _ = try await WebSocketClient.connect(
                        url: "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket", logger: Logger(label: "eio")
                    ) { inbound, outbound, _ in
                        var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        #expect(try await Self.nextText(&frames)?.hasPrefix("0{") == true)
                        try await outbound.write(.text("40"))
                        #expect(try await Self.nextText(&frames)?.hasPrefix("40{") == true)
                        try await outbound.write(.text(#"42["join","eio-slow"]"#))
                        while let text = try await Self.nextText(&frames), !text.hasPrefix(#"42["joined""#) {}
                        joined.yield()
                        var waiter = floodedStream.makeAsyncIterator()
                        await waiter.next()
                        var relayed = 0
                        while let text = try? await Self.nextText(&frames) {
                            if text.hasPrefix(#"42["message""#) { relayed += 1 }
                        }
                        #expect(relayed < sent, "the server stopped writing once the bound was passed")
                    }
                }
                var waiter = joinedStream.makeAsyncIterator()
                await waiter.next()
                _ = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "flood")) {
                    inbound, outbound, _ in
                    var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    try await outbound.write(.text(#"{"type":"join","room":"eio-slow"}"#))
                    _ = try await messages.next()
                    for _ in 0..<sent {
                        try await outbound.write(.text(#"{"type":"message","data":""# + pad + #""}"#))
                    }
                    try await outbound.write(.text(#"{"type":"ping","id":"done"}"#))
                    while let message = try await messages.next() {
                        if case .text(let text) = message, text.contains(#""type":"pong""#) { break }
                    }
                }
                flooded.yield()
                try await group.waitForAll()
            }
        }
    }

    static func nextText(_ iterator: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> String? {
        while let message = try await iterator.next() {
            if case .text(let text) = message { return text }
        }
        return nil
    }
}
