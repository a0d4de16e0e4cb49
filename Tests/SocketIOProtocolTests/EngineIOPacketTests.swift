import SignalingCore
import SocketIOProtocol
import Testing

@Suite("Engine.IO v4 packets")
struct EngineIOPacketTests {
    @Test func textPacketsRoundTrip() throws {
        for type in EngineIOPacketType.allCases {
            let packet = EngineIOPacket(type, "data")
            #expect(packet.pollingRecord == "\(type.rawValue)data")
            #expect(try EngineIOPacket(parsing: Substring(packet.pollingRecord), allowBase64: false) == packet)
        }
        #expect(EngineIOPacket(.ping, "probe").webSocketFrame == .text("2probe"))
    }

    @Test func binaryIsBase64OnPollingAndRawOnWebSocket() throws {
        let packet = EngineIOPacket.binaryMessage([1, 2, 3, 4])
        #expect(packet.pollingRecord == "bAQIDBA==")
        #expect(packet.webSocketFrame == .binary([1, 2, 3, 4]))
        #expect(try EngineIOPacket(parsing: "bAQIDBA==", allowBase64: true) == packet)
        #expect(throws: EngineIOParseError.self) { try EngineIOPacket(parsing: "bAQIDBA==", allowBase64: false) }
        #expect(throws: EngineIOParseError.self) { try EngineIOPacket(parsing: "b!!", allowBase64: true) }
    }

    @Test(arguments: ["", "7", "a", "x4hello", "-1"])
    func invalidPacketsAreRefused(text: String) {
        #expect(throws: EngineIOParseError.self) { try EngineIOPacket(parsing: Substring(text), allowBase64: true) }
    }

    @Test func pollingBodiesSplitOnTheRecordSeparator() throws {
        let packets = try EngineIOPollingPayload.decode("4hello\u{1E}2\u{1E}4€\u{1E}bAQIDBA==")
        #expect(
            packets == [
                EngineIOPacket(.message, "hello"), EngineIOPacket(.ping), EngineIOPacket(.message, "€"), .binaryMessage([1, 2, 3, 4]),
            ])
        #expect(EngineIOPollingPayload.encode(packets) == "4hello\u{1E}2\u{1E}4€\u{1E}bAQIDBA==")
        #expect(throws: EngineIOParseError.self) { try EngineIOPollingPayload.decode("4a\u{1E}\u{1E}4b") }
        #expect(throws: EngineIOParseError.self) { try EngineIOPollingPayload.decode("abc") }
    }

    @Test func handshakeHasExactlyTheFiveKeys() throws {
        let open = EngineIOHandshake(sid: "abc", upgrades: ["websocket"], pingInterval: 300, pingTimeout: 200, maxPayload: 1_000_000)
            .packet
        #expect(open.type == .open)
        let fields = try #require(try JSONValue(parsing: open.text ?? "").objectValue)
        #expect(Set(fields.keys) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
        #expect(fields["upgrades"] == ["websocket"])
        #expect(fields["pingInterval"] == 300)
    }
}
