import SignalingCore
import Testing

@Suite("Server message encoding")
struct ServerMessageEncodingTests {
    static let room = RoomName("demo")!
    static let messages: [OutboundMessage] = [
        OutboundMessage(
            seq: 1,
            message: .joined(room: room, id: SessionID("a"), peers: [PeerInfo(id: SessionID("b"), name: "Bob")], capacity: 2, token: "tok")),
        OutboundMessage(seq: nil, message: .resumed(room: room, id: SessionID("a"), peers: [], lastSeq: 9)),
        OutboundMessage(seq: 2, message: .otherJoined(room: room, peer: PeerInfo(id: SessionID("b"), name: nil))),
        OutboundMessage(seq: 3, message: .left(room: room)),
        OutboundMessage(seq: 4, message: .bye(room: room, id: SessionID("b"), reason: .timeout)),
        OutboundMessage(seq: nil, message: .full(room: room, capacity: 2, requestID: "j")),
        OutboundMessage(seq: 5, message: .message(room: room, from: SessionID("b"), to: SessionID("a"), data: ["sdp": "v=0\r\n"])),
        OutboundMessage(seq: nil, message: .error(SignalingError(.unknownPeer, "who?", requestType: "message", requestID: 3))),
        OutboundMessage(seq: nil, message: .pong(requestID: "p")),
    ]

    @Test(arguments: messages)
    func encodingRoundTripsThroughTheClientDecoder(message: OutboundMessage) throws {
        #expect(try OutboundMessage.decode(Array(message.json.utf8)) == message)
    }

    @Test func typeComesFirstAndFieldsUseTheDocumentedNames() {
        let text = OutboundMessage(seq: 5, message: .message(room: Self.room, from: SessionID("b"), to: nil, data: 1)).json
        #expect(text == #"{"type":"message","room":"demo","from":"b","data":1,"seq":5}"#)
        let error = OutboundMessage(seq: nil, message: .error(SignalingError(.badJSON, "bad \"x\""))).json
        #expect(error == #"{"type":"error","code":"bad_json","message":"bad \"x\""}"#)
    }

    @Test func everyErrorCodeIsStableSnakeCase() {
        for code in SignalingErrorCode.allCases {
            #expect(code.rawValue.allSatisfy { $0.isLowercase || $0 == "_" }, "\(code)")
        }
        #expect(Set(SignalingErrorCode.allCases.map(\.rawValue)).count == SignalingErrorCode.allCases.count)
    }
}

extension OutboundMessage: CustomTestStringConvertible {
    public var testDescription: String { json }
}
