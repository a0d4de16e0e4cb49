import SignalingCore
import Testing

@Suite("A message's data kept as the text it arrived as")
struct JSONTextTests {
    func relayed(_ frame: String) throws -> String {
        let request = try ClientRequest.decode(Array(frame.utf8))
        guard case .message(let to, let data) = request.message else {
            Issue.record("\(frame) is not a message")
            return ""
        }
        return OutboundMessage(seq: 3, message: .message(room: RoomName("r")!, from: SessionID("a"), to: to, data: data)).json
    }

    @Test func dataIsRelayedByteForByte() throws {
        // Whitespace, member order, escapes the serializer would write otherwise, and a repeated inner key all stay.
        let data = #"{ "sdp" : "v=0\r\nm=audio 9\r\n", "type":"offer", "b":1.50, "u":"\u00e9\/", "k":1, "k":2 }"#
        let frame = try relayed(#"{"type":"message","to":"b","data":\#(data)}"#)
        #expect(frame == #"{"type":"message","room":"r","from":"a","to":"b","data":\#(data),"seq":3}"#)
    }

    @Test func theLastRepeatedDataMemberCounts() throws {
        let frame = try relayed(#"{"type":"message","data":[1],"data":"two"}"#)
        #expect(frame == #"{"type":"message","room":"r","from":"a","data":"two","seq":3}"#)
    }

    @Test(arguments: [
        #"{"type":"message","data":"\ud800"}"#,  // a lone surrogate
        #"{"type":"message","data":{"a":"\q"}}"#,  // an unknown escape
        "{\"type\":\"message\",\"data\":\"tab\tinside\"}",  // a raw control character (a tab)
        #"{"type":"message","data":[1,]}"#,
        #"{"type":"message","data":{"a" 1}}"#,
        #"{"type":"message","data":1e999}"#,
        #"{"type":"message","data":tru}"#,
        #"{"type":"message","data":[1]"#,
        #"{"type":"message","data":[1]}x"#,
    ])
    func invalidDataIsRefusedAsTheTreeParserRefusesIt(frame: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: frame) }
        #expect(throws: JSONParseError.self) { try JSONValue.parsingObject(Array(frame.utf8), keepingAsText: "data") }
        do {
            _ = try ClientRequest.decode(Array(frame.utf8))
            Issue.record("\(frame) was accepted")
        } catch {
            #expect(error.code == .badJSON)
        }
    }

    @Test func invalidUTF8InDataIsRefused() {
        var bytes = Array(#"{"type":"message","data":"x"}"#.utf8)
        bytes[bytes.count - 3] = 0xFF
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: bytes) }
        #expect(throws: JSONParseError.self) { try JSONValue.parsingObject(bytes, keepingAsText: "data") }
        // Also in an earlier `data` that a repeated one replaces (found by fuzzing).
        let repeated = Array(#"{"type":"message","data":"a"#.utf8) + [0x82] + Array(#"b","data":1}"#.utf8)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: repeated) }
        #expect(throws: JSONParseError.self) { try JSONValue.parsingObject(repeated, keepingAsText: "data") }
    }

    @Test func nestingIsBoundedAsInTheTree() {
        let deep = String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth)
        let frame = #"{"type":"message","data":\#(deep)}"#
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: frame) }
        #expect(throws: JSONParseError.self) { try JSONValue.parsingObject(Array(frame.utf8), keepingAsText: "data") }
        let shallower = String(deep.dropFirst().dropLast())
        #expect(throws: Never.self) { try JSONValue.parsingObject(Array(#"{"data":\#(shallower)}"#.utf8), keepingAsText: "data") }
    }

    @Test func textAndTreeCompareByValue() throws {
        let text = try JSONText(parsing: #"{ "b" : [1, 2.0], "a" : null }"#)
        #expect(text == ["a": nil, "b": [1, 2]])
        #expect(text.hashValue == JSONText(["a": nil, "b": [1, 2]]).hashValue)
        #expect(text.value == ["a": nil, "b": [1, 2]])
        #expect(text != ["a": 1])
        #expect(text.description == #"{ "b" : [1, 2.0], "a" : null }"#)
        #expect(JSONText(["b": "x", "a": 1]).description == #"{"a":1,"b":"x"}"#)
        #expect(throws: JSONParseError.self) { try JSONText(parsing: "{") }
    }

    @Test func membersOtherThanDataAreParsed() throws {
        let parsed = try JSONValue.parsingObject(Array(#"{"type":"ping","ack":4}"#.utf8), keepingAsText: "data")
        #expect(parsed?.members == ["type": "ping", "ack": 4])
        #expect(parsed?.text == nil)
        #expect(try JSONValue.parsingObject(Array("[1]".utf8), keepingAsText: "data") == nil)
    }
}
