import SignalingCore
import SwitchboardTestSupport
import Testing

@Suite("JSON parsing and serialization")
struct JSONValueTests {
    @Test(arguments: [
        (#"{"a":[1,-2.5,true,false,null,"x"]}"#, JSONValue.object(["a": [1, -2.5, true, false, nil, "x"]])),
        (#"  "esc\"\\\/\b\f\n\r\t"  "#, .string("esc\"\\/\u{08}\u{0C}\n\r\t")),
        (#""\u00e9\ud83d\ude00""#, .string("é😀")),
        ("1e3", .integer(1000)),
        ("-0", .integer(0)),
        ("9223372036854775807", .integer(.max)),
        ("92233720368547758080", .double(9.223372036854775808e19)),
        ("[]", .array([])),
        ("{}", .object([:])),
    ])
    func parsesValidJSON(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == expected)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "01", "1.", "-", "tru", "\"unterminated", "\"\u{01}\"",
        "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "1 2", "nan", "{'a':1}", "[1e999]",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func refusesDeepNestingInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        let allowed = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect((try? JSONValue(parsing: allowed)) != nil)
    }

    @Test func serializationRoundTrips() throws {
        let value: JSONValue = [
            "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "n": 12, "f": 0.25, "list": [nil, true, "\u{01}"],
            "nested": ["quote": "\"", "slash": "\\"],
        ]
        let text = value.serialized
        #expect(try JSONValue(parsing: text) == value)
        #expect(text.contains(#""\u0001""#))
    }

    /// Found by fuzzing (fuzz/regressions/socketio-packet, ws-client-message): "2.0" parsed as a double, was written
    /// as "2" and read back as an integer, so relaying a payload changed it. A whole number is an integer now,
    /// however it is written.
    @Test(arguments: [
        ("2.0", JSONValue.integer(2)), ("1e3", .integer(1000)), ("-0.0", .integer(0)), ("2.5e1", .integer(25)),
        ("77777777.0000000000000000000000000000000000000000000006", .integer(77_777_777)),
        ("-9223372036854775808.0", .integer(.min)), ("9223372036854775808.0", .double(9_223_372_036_854_775_808)),
        ("1e300", .double(1e300)), ("2.5", .double(2.5)), ("1e-400", .integer(0)),
    ])
    func wholeNumbersAreIntegersAndSurviveSerialization(text: String, expected: JSONValue) throws {
        let value = try JSONValue(parsing: text)
        #expect(value == expected)
        #expect(try JSONValue(parsing: value.serialized) == value)
    }

    @Test func randomBytesNeverTrapTheParser() {
        var generator = SeededGenerator(seed: 0x5EED)
        let alphabet = Array(#"{}[]":,\-0123456789.eEtruefalsn ab\u"#.utf8) + [0x00, 0xFF, 0xC3]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            _ = try? JSONValue(parsing: bytes)
            _ = try? ClientRequest.decode(bytes)
        }
    }
}
