import SignalingCore
import Testing

@testable import Signaling

@Suite("Server-sent event framing")
struct EventStreamFormatTests {
    @Test func sequencedMessagesCarryAResumableID() {
        let message = OutboundMessage(seq: 12, message: .left(room: RoomName("r")!))
        #expect(
            EventStreamFormat.event(for: message, resumeToken: "tok")
                == "id: tok:12\ndata: {\"type\":\"left\",\"room\":\"r\",\"seq\":12}\n\n")
        #expect(EventStreamFormat.event(for: message, resumeToken: nil).hasPrefix("data: "), "no id before the token is known")
        let pong = OutboundMessage(seq: nil, message: .pong(requestID: nil))
        #expect(EventStreamFormat.event(for: pong, resumeToken: "tok") == "data: {\"type\":\"pong\"}\n\n")
    }

    @Test func preambleSetsRetryAndNamesTheSession() {
        #expect(EventStreamFormat.preamble(streamToken: "abc") == "retry: 1000\n\nevent: session\ndata: {\"token\":\"abc\"}\n\n")
        #expect(EventStreamFormat.event(name: nil, id: nil, data: "a\nb") == "data: a\ndata: b\n\n")
    }

    @Test func lastEventIDParsesBackIntoAResume() {
        #expect(EventStreamFormat.resumeRequest(lastEventID: "tok-_9:41") == .resume(token: "tok-_9", lastSeq: 41))
        for malformed in ["", "tok", "tok:", ":5", "tok:-1", "tok:x", String(repeating: "t", count: 200) + ":1"] {
            #expect(EventStreamFormat.resumeRequest(lastEventID: malformed) == nil, "\(malformed)")
        }
    }
}
