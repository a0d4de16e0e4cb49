import SignalingCore
import SocketIOProtocol
import Testing

@Suite("Socket.IO v5 packets")
struct SocketIOPacketTests {
    func parse(_ text: String) throws -> SocketIOPacket {
        let (packet, count) = try SocketIOPacket.parse(text)
        #expect(count == 0)
        return packet
    }

    @Test func protocolExamplesParse() throws {
        #expect(try parse("0") == SocketIOPacket(.connect))
        #expect(try parse("0{\"token\":\"123\"}") == SocketIOPacket(.connect, data: ["token": "123"]))
        #expect(try parse("0/admin,") == SocketIOPacket(.connect, namespace: "/admin"))
        #expect(try parse("0/custom") == SocketIOPacket(.connect, namespace: "/custom"), "a namespace may end the packet")
        #expect(try parse("1/custom") == SocketIOPacket(.disconnect, namespace: "/custom"))
        #expect(try parse("2[\"hey\",\"Jude\"]") == SocketIOPacket(.event, data: ["hey", "Jude"]))
        #expect(try parse("2/admin,1[\"tellme\"]") == SocketIOPacket(.event, namespace: "/admin", id: 1, data: ["tellme"]))
        #expect(try parse("3/admin,13[\"bar\"]") == SocketIOPacket(.ack, namespace: "/admin", id: 13, data: ["bar"]))
        #expect(try parse("3456[]") == SocketIOPacket(.ack, id: 456, data: []))
        #expect(try parse("2[42]").event == nil, "a numeric event name is valid but not a named event")
    }

    @Test func binaryHeadersCountTheirAttachments() throws {
        let (packet, count) = try SocketIOPacket.parse("52-[\"hello\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]")
        #expect(packet.type == .binaryEvent)
        #expect(count == 2)
        let (ack, ackCount) = try SocketIOPacket.parse("61-/custom,789[{\"_placeholder\":true,\"num\":0}]")
        #expect(ack.namespace == "/custom" && ack.id == 789 && ackCount == 1)
    }

    @Test(arguments: [
        "", "7", "a", "2", "2{}", "2[]", "2[\"connect\"]", "2[\"disconnect\",1]", "2[null]", "2[{}]", "0[]", "0\"x\"", "1{}",
        "3{}", "4", "5[\"a\"]", "5x-[\"a\"]", "511-[\"a\"]", "52[\"a\"]", "2[\"a\"", "2/admin,[\"a\"", "21234567890123456789[\"a\"]",
    ])
    func parserRulesRefuse(text: String) {
        #expect(throws: SocketIOParseError.self) { try SocketIOPacket.parse(text) }
    }

    /// Found by fuzzing (fuzz/regressions/socketio-packet/whole-double-event-argument): a packet's encoding must
    /// parse back to the packet, and `7.0` used to come back as a different value, `7`.
    @Test func wholeNumbersSurviveReencoding() throws {
        let packet = try parse("2[7.0]")
        #expect(packet.data == [7])
        #expect(packet.encoded == "2[7]")
        #expect(try parse(packet.encoded) == packet)
    }

    @Test func encodingIsTheWireForm() {
        #expect(SocketIOPacket(.connect, data: ["sid": "x"]).encoded == "0{\"sid\":\"x\"}")
        #expect(
            SocketIOPacket(.connectError, namespace: "/random", data: ["message": "Invalid namespace"]).encoded
                == "4/random,{\"message\":\"Invalid namespace\"}")
        #expect(SocketIOPacket(.ack, id: 456, data: [1, "2"]).encoded == "3456[1,\"2\"]")
        #expect(
            SocketIOPacket(.binaryAck, id: 789, data: [["_placeholder": true, "num": 0]], attachments: [[1], [2]]).encoded
                .hasPrefix("62-789["))
        #expect(SocketIOPacket(.disconnect, namespace: "/custom").encoded == "1/custom,")
    }

    @Test func attachmentsCompleteABinaryPacket() throws {
        var assembler = SocketIOBinaryAssembler()
        let (header, count) = try SocketIOPacket.parse("52-[\"b\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]")
        #expect(try assembler.begin(header, attachmentCount: count) == nil)
        #expect(assembler.isAwaitingAttachments)
        #expect(try assembler.add([1, 2]) == nil)
        let packet = try #require(try assembler.add([3]))
        #expect(packet.attachments == [[1, 2], [3]])
        #expect(!assembler.isAwaitingAttachments)
        #expect(throws: SocketIOParseError.self) { try assembler.add([9]) }
    }

    @Test func placeholdersMustNameAnAttachment() throws {
        var assembler = SocketIOBinaryAssembler()
        let (header, count) = try SocketIOPacket.parse("51-[\"b\",{\"_placeholder\":true,\"num\":3}]")
        _ = try assembler.begin(header, attachmentCount: count)
        #expect(throws: SocketIOParseError.self) { try assembler.add([1]) }
        var binary = SocketIOBinaryAssembler()
        let (unpaired, none) = try SocketIOPacket.parse("50-[\"b\",{\"_placeholder\":true,\"num\":0}]")
        #expect(throws: SocketIOParseError.self) { try binary.begin(unpaired, attachmentCount: none) }
        var plain = SocketIOBinaryAssembler()
        let (text, zero) = try SocketIOPacket.parse("2[\"b\",{\"_placeholder\":true,\"num\":0}]")
        #expect(try plain.begin(text, attachmentCount: zero) == text, "outside binary packets a placeholder is plain data")
    }
}
