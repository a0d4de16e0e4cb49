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

    @Test func rawLineBreaksInRelayedDataBecomeDataLinesThatRejoinAsTheSameJSON() throws {
        // `data` is relayed as the sender wrote it: CR, CRLF and LF between tokens are whitespace to JSON, but each
        // ends a line to EventSource, so each must start a new `data:` line, not cut the event short.
        let frame = "{\"type\":\"message\",\"data\":[1,\r2,\r\n3,\n\n4]}"
        let request = try ClientRequest.decode(Array(frame.utf8))
        guard case .message(_, let data) = request.message else {
            Issue.record("not a message")
            return
        }
        let outbound = OutboundMessage(seq: 3, message: .message(room: RoomName("r")!, from: SessionID("a"), to: nil, data: data))
        let event = EventStreamFormat.event(for: outbound, resumeToken: nil)
        #expect(event.hasSuffix("\n\n"))
        let body = event.dropLast(2)
        #expect(!body.unicodeScalars.contains("\r"), "a CR would end a line EventSource does not see as data")
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 6)
        #expect(lines.allSatisfy { $0.hasPrefix("data: ") })
        // What EventSource hands the page: the data lines joined with LF.
        let joined = lines.map { $0.dropFirst(6) }.joined(separator: "\n")
        #expect(try JSONValue(parsing: joined)["data"] == [1, 2, 3, 4])
    }

    @Test func lastEventIDParsesBackIntoAResume() {
        #expect(EventStreamFormat.resumeRequest(lastEventID: "tok-_9:41") == .resume(token: "tok-_9", lastSeq: 41))
        for malformed in ["", "tok", "tok:", ":5", "tok:-1", "tok:x", String(repeating: "t", count: 200) + ":1"] {
            #expect(EventStreamFormat.resumeRequest(lastEventID: malformed) == nil, "\(malformed)")
        }
    }
}
