import SignalingCore
import SocketIOProtocol
import Testing

@testable import Signaling

/// What the hub sends a Socket.IO socket becomes the same packets on both ways out (outbox writer and direct
/// WebSocket), so the translation is checked here once, without sockets.
@Suite("Socket.IO hub translation")
struct SocketIOHubTranslationTests {
    let room = RoomName("lobby")!
    let me = SessionID("me")
    let other = SessionID("other")

    func encoded(_ packets: [SocketIOPacket]) -> [String] { packets.map(\.encoded) }

    /// The first argument of a packet's data array.
    func first(_ packet: SocketIOPacket?) -> JSONValue? {
        guard case .array(let items)? = packet?.data else { return nil }
        return items.first
    }

    @Test func aJoinAckCarriesTheRoomFromTheJoinedBeforeIt() {
        var translation = SocketIOHubTranslation(namespace: "/", session: me)
        let joined = ServerMessage.joined(room: room, id: me, peers: [PeerInfo(id: other, name: nil)], capacity: 2, token: "t")
        let events = translation.packets(for: .message(OutboundMessage(seq: 1, message: joined)), vocabulary: .joinLeave)
        #expect(encoded(events.packets) == [#"2["joined","lobby","me"]"#] && !events.closes)
        let ack = translation.packets(
            for: .acknowledge(Outbox.Acknowledgement(requestID: 7, requestType: "join", replies: [])), vocabulary: .joinLeave)
        #expect(ack.packets.count == 1)
        #expect(ack.packets.first?.type == .ack && ack.packets.first?.id == 7)
        #expect(ack.packets.first?.data == [["ok": true, "room": "lobby", "id": "me", "peers": ["other"], "capacity": 2]])
        // A message's ack never carries the room.
        let plain = translation.packets(
            for: .acknowledge(Outbox.Acknowledgement(requestID: 8, requestType: "message", replies: [])), vocabulary: .joinLeave)
        #expect(plain.packets.first?.data == [["ok": true]])
    }

    @Test func aFullRoomIsAnEventAndAFailedAck() {
        var translation = SocketIOHubTranslation(namespace: "/chat", session: me)
        let full = Outbox.Acknowledgement(requestID: 3, requestType: "join", replies: [.full(room: room, capacity: 2, requestID: 3)])
        let packets = translation.packets(for: .acknowledge(full), vocabulary: .codelab).packets
        #expect(packets.map(\.type) == [.event, .ack])
        #expect(packets.allSatisfy { $0.namespace == "/chat" })
        #expect(packets.first?.data == ["full", "lobby"])
        #expect(first(packets.last)?["code"] == "room_full")
    }

    @Test func aFatalErrorAnswersItsRequestsAckAndACloseEndsWithDisconnect() {
        var translation = SocketIOHubTranslation(namespace: "/", session: me)
        let fatal = SignalingError(.rateLimited, "too fast", requestType: "message", requestID: 9)
        let answered = translation.packets(for: .message(OutboundMessage(seq: nil, message: .error(fatal))), vocabulary: .codelab)
        #expect(answered.packets.map(\.type) == [.ack] && answered.packets.first?.id == 9)
        #expect(first(answered.packets.first)?["code"] == "rate_limited")
        let close = translation.packets(for: .close(fatal), vocabulary: .codelab)
        #expect(close.closes && close.packets.map(\.type) == [.disconnect])
        let slow = translation.closing(error: SignalingError(.slowConsumer, "not read"))
        #expect(slow.map(\.type) == [.event, .disconnect])
        #expect(first(slow.first) == "error")
    }

    @Test func aReplayIsEveryMissedMessageInOrderAndAttachmentsBecomeBinaryMessages() {
        var translation = SocketIOHubTranslation(namespace: "/", session: me)
        let missed = [1, 2, 3].map {
            OutboundMessage(seq: UInt64($0), message: .message(room: room, from: other, to: nil, data: JSONText(.integer(Int64($0)))))
        }
        let replay = translation.packets(for: .replay(missed), vocabulary: .codelab).packets
        #expect(encoded(replay) == [#"2["message",1]"#, #"2["message",2]"#, #"2["message",3]"#])
        let binary = SocketIOPacket(
            .binaryEvent, namespace: "/", data: ["file", ["_placeholder": true, "num": 0]], attachments: [[1, 2]])
        let frames = binary.engineIOPackets
        #expect(frames.count == 2 && frames.allSatisfy { $0.type == .message })
        #expect(frames.last?.payload == .binary([1, 2]))
    }
}
