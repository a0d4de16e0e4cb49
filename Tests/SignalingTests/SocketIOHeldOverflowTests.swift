import NIOCore
import NIOEmbedded
import NIOWebSocket
import SignalingCore
import SocketIOProtocol
import Testing

@testable import Signaling

/// What the hub sends a Socket.IO socket before its way out opens (the CONNECT unanswered, or an upgrade's outbox
/// still draining) is held, up to a bound. Past it the hub drops the connection: once the way out opens the client
/// must hear why and be disconnected, not get the held messages or stay connected to nothing.
@Suite("Socket.IO socket held past its bound")
struct SocketIOHeldOverflowTests {
    struct IgnoringApplication: EngineIOApplication {
        func opened(_ session: EngineIOSession) async {}
        func received(_ payload: EngineIOPacket.Payload, on session: EngineIOSession) async {}
        func closed(_ session: EngineIOSession, reason: String) async {}
    }

    func message(_ seq: UInt64) -> OutboundMessage {
        OutboundMessage(seq: seq, message: .message(room: RoomName("r")!, from: SessionID("a"), to: nil, data: .integer(Int64(seq))))
    }

    /// What was written, once the loop has run what was queued on it.
    func writtenTexts(_ channel: NIOAsyncTestingChannel) async throws -> [String] {
        await channel.testingEventLoop.run()
        var texts: [String] = []
        while let frame = try await channel.readOutbound(as: WebSocketFrame.self) {
            texts.append(String(buffer: frame.unmaskedData))
        }
        return texts
    }

    @Test func theClientHearsWhyAndIsDisconnectedOnceTheWayOutOpens() async throws {
        // The async testing channel: the session's actor writes to it from its own thread.
        let channel = NIOAsyncTestingChannel()
        let sink = EngineIOWebSocketSink(channel: channel, traffic: nil, limit: 100)
        let session = EngineIOSession(
            sid: "sid", remoteAddress: nil, transport: .webSocket, configuration: EngineIOConfiguration(),
            application: IgnoringApplication(), eventLoop: channel.eventLoop, openedOnWebSocket: sink, onEnd: { _ in })
        let work = SignalingEdgeWork()
        let connection = SocketIOWebSocketConnection(
            webSocket: sink, session: session, vocabulary: SocketIOVocabularyCell(), holdLimit: 2, work: work)

        #expect(connection.send(message(1)))
        #expect(connection.send(message(2)))
        #expect(!connection.send(message(3)), "the third is past the bound: the hub is told to drop the connection")
        #expect(try await writtenTexts(channel).isEmpty, "nothing goes out before the way out opens")

        connection.takeOver(SocketIOHubTranslation(namespace: "/", session: SessionID("s1")))
        let texts = try await writtenTexts(channel)
        #expect(texts.count == 2)
        #expect(texts.first?.hasPrefix(#"42["error",{"#) == true)
        #expect(texts.first?.contains(SignalingErrorCode.slowConsumer.rawValue) == true)
        #expect(texts.last == "41", "then a Socket.IO DISCONNECT")
        #expect(!texts.contains { $0.hasPrefix(#"42["message""#) }, "none of the held messages is written")

        // The DISCONNECT ends the Engine.IO session too, as a job of the edge's work.
        work.finish()
        await work.run()
        #expect(await session.isClosed)
        _ = try await writtenTexts(channel)
        _ = connection.send(message(4))
        #expect(!(try await writtenTexts(channel)).contains { $0.hasPrefix(#"42["message""#) }, "no message after the DISCONNECT")
        _ = try? await channel.finish()
    }
}
