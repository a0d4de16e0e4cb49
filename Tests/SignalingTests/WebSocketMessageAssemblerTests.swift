import NIOCore
import SignalingCore
import Testing

@testable import Signaling

@Suite("WebSocket message assembly")
struct WebSocketMessageAssemblerTests {
    private func frame(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func anUnfragmentedTextFrameIsOneRequest() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 1024)
        let outcome = assembler.append(frame(#"{"type":"ping","id":7}"#), startsMessage: true, isText: true, fin: true)
        guard case .request(let request) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(request.message == .ping(ack: nil))
        #expect(request.id == .integer(7))
    }

    @Test func fragmentsAreJoinedInOrder() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 1024)
        let parts = [#"{"type":"mess"#, #"age","data":{"n":1}"#, "}"]
        var outcomes: [WebSocketMessageAssembler.Outcome] = []
        for (index, part) in parts.enumerated() {
            outcomes.append(assembler.append(frame(part), startsMessage: index == 0, isText: true, fin: index == parts.count - 1))
        }
        guard case .incomplete = outcomes[0], case .incomplete = outcomes[1], case .request(let request) = outcomes[2] else {
            Issue.record("got \(outcomes)")
            return
        }
        #expect(request.message == .message(to: nil, data: ["n": 1]))
    }

    @Test func theLimitCountsEveryFragmentBeforeParsing() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 10)
        #expect(isIncomplete(assembler.append(frame("123456"), startsMessage: true, isText: true, fin: false)))
        let outcome = assembler.append(frame("12345"), startsMessage: false, isText: true, fin: true)
        guard case .rejected(let error, let fatal) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(error.code == .frameTooLarge)
        #expect(fatal)
    }

    @Test func aMessageOfExactlyTheLimitIsRead() {
        let text = #"{"type":"leave"}"#
        var assembler = WebSocketMessageAssembler(maxMessageBytes: text.utf8.count)
        guard case .request(let request) = assembler.append(frame(text), startsMessage: true, isText: true, fin: true) else {
            Issue.record("refused a message of exactly the limit")
            return
        }
        #expect(request.message == .leave)
    }

    @Test func binaryAndMalformedMessagesAreRecoverableErrors() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 1024)
        let binary = assembler.append(frame("{}"), startsMessage: true, isText: false, fin: true)
        guard case .rejected(let binaryError, let binaryFatal) = binary else { Issue.record("got \(binary)"); return }
        #expect(binaryError.code == .binaryFrame && !binaryFatal)
        let malformed = assembler.append(frame("{nope"), startsMessage: true, isText: true, fin: true)
        guard case .rejected(let malformedError, let malformedFatal) = malformed else { Issue.record("got \(malformed)"); return }
        #expect(malformedError.code == .badJSON && !malformedFatal)
        // The assembler starts afresh: the next message is read normally.
        guard case .request = assembler.append(frame(#"{"type":"leave"}"#), startsMessage: true, isText: true, fin: true) else {
            Issue.record("the message after an error was not read")
            return
        }
    }

    @Test func aNewMessageDiscardsAnUnfinishedOne() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 1024)
        #expect(isIncomplete(assembler.append(frame(#"{"type":"#), startsMessage: true, isText: true, fin: false)))
        guard case .request(let request) = assembler.append(frame(#"{"type":"leave"}"#), startsMessage: true, isText: true, fin: true)
        else {
            Issue.record("the new message was not read on its own")
            return
        }
        #expect(request.message == .leave)
    }

    private func isIncomplete(_ outcome: WebSocketMessageAssembler.Outcome) -> Bool {
        if case .incomplete = outcome { return true }
        return false
    }
}
