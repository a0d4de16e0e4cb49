import SignalingCore
import Testing

@Suite("Request decoding")
struct ClientRequestDecodingTests {
    func decode(_ text: String) throws(SignalingError) -> ClientRequest {
        try ClientRequest.decode(Array(text.utf8))
    }

    @Test func decodesEveryRequestType() throws {
        #expect(
            try decode(#"{"type":"join","room":"r.1","name":"Al","password":"p","capacity":3,"id":1}"#)
                == ClientRequest(.join(JoinRequest(room: RoomName("r.1")!, name: "Al", password: "p", capacity: 3)), id: 1))
        #expect(try decode(#"{"type":"leave"}"#) == ClientRequest(.leave))
        #expect(
            try decode(#"{"type":"message","to":"abc","data":{"type":"offer"},"id":"m1"}"#)
                == ClientRequest(.message(to: SessionID("abc"), data: ["type": "offer"]), id: "m1"))
        #expect(try decode(#"{"type":"message","data":null}"#) == ClientRequest(.message(to: nil, data: .null)))
        #expect(try decode(#"{"type":"ping","ack":7}"#) == ClientRequest(.ping(ack: 7)))
        #expect(try decode(#"{"type":"resume","token":"tok","last_seq":4}"#) == ClientRequest(.resume(token: "tok", lastSeq: 4)))
        #expect(try decode(#"{"type":"leave","extra":"ignored"}"#) == ClientRequest(.leave))
    }

    @Test(arguments: [
        ("[1]", SignalingErrorCode.badJSON), ("nope", .badJSON), ("{}", .missingField),
        (#"{"type":5}"#, .invalidField), (#"{"type":"dance"}"#, .unknownType),
        (#"{"type":"join"}"#, .missingField), (#"{"type":"join","room":""}"#, .invalidRoomName),
        (#"{"type":"join","room":"a b"}"#, .invalidRoomName), (#"{"type":"join","room":".hidden"}"#, .invalidRoomName),
        (#"{"type":"join","room":"ok","capacity":0}"#, .invalidField),
        (#"{"type":"join","room":"ok","capacity":"2"}"#, .invalidField),
        (#"{"type":"join","room":"ok","name":"a\u0007b"}"#, .invalidField),
        (#"{"type":"join","room":"ok","password":7}"#, .invalidField),
        (#"{"type":"message"}"#, .missingField), (#"{"type":"message","data":1,"to":5}"#, .invalidField),
        (#"{"type":"ping","ack":-1}"#, .invalidField), (#"{"type":"resume"}"#, .missingField),
        (#"{"type":"ping","id":[1]}"#, .invalidField), (#"{"type":"ping","id":1.5}"#, .invalidField),
    ])
    func rejectsBadRequestsWithPreciseCodes(text: String, code: SignalingErrorCode) {
        #expect(throws: SignalingError.self) { try decode(text) }
        do {
            _ = try decode(text)
        } catch {
            #expect(error.code == code)
        }
    }

    /// Found by fuzzing (fuzz/regressions/ws-client-message/whole-double-data): the relayed frame must carry the data
    /// the client sent, and `2.0` used to reach the other members as a different value.
    @Test func relayedDataReadsBackAsSent() throws {
        let request = try decode(#"{"type":"message","data":2.0}"#)
        #expect(request == ClientRequest(.message(to: nil, data: 2)))
        guard case .message(let to, let data) = request.message else { return }
        let relayed = OutboundMessage(seq: 1, message: .message(room: RoomName("r")!, from: SessionID("a"), to: to, data: data))
        #expect(try OutboundMessage.decode(Array(relayed.json.utf8)) == relayed)
    }

    @Test func errorsReferenceTheOffendingRequest() {
        do {
            _ = try decode(#"{"type":"join","room":"","id":"j1"}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.requestType == "join")
            #expect(error.requestID == "j1")
        }
    }

    @Test func anInvalidIDStillNamesTheRequest() {
        do {
            _ = try decode(#"{"type":"ping","id":{"x":1}}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidField)
            #expect(error.requestType == "ping")
        }
    }

    @Test func roomNameRules() {
        #expect(RoomName(String(repeating: "a", count: 64)) != nil)
        #expect(RoomName(String(repeating: "a", count: 65)) == nil)
        #expect(RoomName("Aa0-_.") != nil)
        #expect(RoomName("é") == nil)
        #expect(RoomName("a/b") == nil)
    }
}
