import SignalingCore

extension FuzzTarget {
    /// Any JSON text: every signaling transport hands client frames to this parser.
    public static let json = FuzzTarget(
        name: "json", maximumInputLength: 16_384,
        summary: "JSONValue(parsing:): a parsed value serializes to text that parses back to an equal value",
        run: JSONFuzzing.run)
}

/// The checks behind ``FuzzTarget/json``.
enum JSONFuzzing {
    static func run(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        guard let value = try? JSONValue(parsing: input) else { return }
        try checkRoundTrip(value)
    }

    /// The server relays client JSON by serializing what it parsed: that must not change the value.
    static func checkRoundTrip(_ value: JSONValue) throws(FuzzPropertyViolation) {
        let text = value.serialized
        let again: JSONValue
        do {
            again = try JSONValue(parsing: text)
        } catch {
            throw FuzzPropertyViolation("the serialization \(text) does not parse: \(error)")
        }
        try require(again == value, "\(value) serializes as \(text), which parses as \(again)")
        try require(again.serialized == text, "serializing is not stable: \(text) then \(again.serialized)")
    }
}
