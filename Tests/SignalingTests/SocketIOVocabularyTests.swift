import SignalingCore
import Testing

@testable import Signaling

@Suite("Socket.IO signaling vocabularies")
struct SocketIOVocabularyTests {
    let room = RoomName("lobby")!
    let me = SessionID("me")
    let other = SessionID("other")

    func emissions(_ vocabulary: SocketIOVocabulary, _ message: ServerMessage) -> [SocketIOEmission] {
        vocabulary.emissions(for: message, me: me)
    }

    @Test func codelabCreatesJoinsAndReadies() {
        let first = ServerMessage.joined(room: room, id: me, peers: [], capacity: 2, token: "t")
        #expect(emissions(.codelab, first) == [SocketIOEmission("created", ["lobby", "me"])])
        let second = ServerMessage.joined(room: room, id: me, peers: [PeerInfo(id: other, name: nil)], capacity: 2, token: "t")
        #expect(emissions(.codelab, second) == [SocketIOEmission("joined", ["lobby", "me"]), SocketIOEmission("ready")])
        let arrival = ServerMessage.otherJoined(room: room, peer: PeerInfo(id: other, name: "o"))
        #expect(emissions(.codelab, arrival) == [SocketIOEmission("join", ["lobby"]), SocketIOEmission("ready")])
        #expect(emissions(.codelab, .full(room: room, capacity: 2, requestID: nil)) == [SocketIOEmission("full", ["lobby"])])
        let message = ServerMessage.message(room: room, from: other, to: nil, data: ["type": "offer"])
        #expect(emissions(.codelab, message) == [SocketIOEmission("message", [["type": "offer"]])])
    }

    @Test func joinLeaveNamesRoomAndIds() {
        let first = ServerMessage.joined(room: room, id: me, peers: [PeerInfo(id: other, name: nil)], capacity: 2, token: "t")
        #expect(emissions(.joinLeave, first) == [SocketIOEmission("joined", ["lobby", "me"])])
        let arrival = ServerMessage.otherJoined(room: room, peer: PeerInfo(id: other, name: nil))
        #expect(emissions(.joinLeave, arrival) == [SocketIOEmission("otherjoin", ["lobby", "other"])])
        #expect(emissions(.joinLeave, .full(room: room, capacity: 2, requestID: nil)) == [SocketIOEmission("full", ["lobby", "me"])])
        #expect(emissions(.joinLeave, .left(room: room)) == [SocketIOEmission("leaved", ["lobby", "me"])])
        #expect(emissions(.joinLeave, .bye(room: room, id: other, reason: .left)) == [SocketIOEmission("bye", ["lobby", "other"])])
        let message = ServerMessage.message(room: room, from: other, to: me, data: 7)
        #expect(emissions(.joinLeave, message) == [SocketIOEmission("message", ["lobby", 7])])
    }

    @Test func errorsCarryTheNativeFieldsAndResumeIsSilent() {
        let error = SignalingError(.notInRoom, "not in a room", requestType: "leave", requestID: 4)
        #expect(
            emissions(.codelab, .error(error))
                == [SocketIOEmission("error", [["code": "not_in_room", "message": "not in a room", "request": "leave"]])])
        #expect(emissions(.codelab, .pong(requestID: nil)).isEmpty)
        #expect(emissions(.joinLeave, .resumed(room: room, id: me, peers: [], lastSeq: 3)).isEmpty)
    }

    @Test func acknowledgementsSayOkOrWhy() {
        let joined = ServerMessage.joined(room: room, id: me, peers: [PeerInfo(id: other, name: nil)], capacity: 2, token: "secret")
        let success = Outbox.Acknowledgement(requestID: 1, requestType: "join", replies: [])
        #expect(
            success.argument(joined: joined)
                == ["ok": true, "room": "lobby", "id": "me", "peers": ["other"], "capacity": 2],
            "the resume token never appears in an ack")
        #expect(success.argument(joined: nil) == ["ok": true])
        let full = Outbox.Acknowledgement(requestID: 1, requestType: "join", replies: [.full(room: room, capacity: 2, requestID: 1)])
        #expect(full.argument(joined: nil)["code"] == "room_full")
        #expect(full.argument(joined: nil)["ok"] == false)
        let failed = Outbox.Acknowledgement(
            requestID: 2, requestType: "message", replies: [.error(SignalingError(.notInRoom, "join first", requestID: 2))])
        #expect(failed.argument(joined: nil) == ["ok": false, "code": "not_in_room", "message": "join first"])
    }
}
