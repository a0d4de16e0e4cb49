/// A message's `data`: opaque JSON the server relays untouched.
///
/// From `/ws` and Server-Sent Events it is kept as the validated text it arrived in, so relaying it writes those
/// bytes verbatim: no tree is built, no keys are sorted, no SDP line break is escaped again. Transports that parse
/// their frames generically (Socket.IO, the cluster bus) hand over the tree they already have; either form turns
/// into the other only when a recipient's encoder needs it. Equality compares the JSON values, not the spelling.
/// Kept text may hold raw CR or LF between tokens (never inside a string): line-based encoders must split on both.
public struct JSONText: Hashable, Sendable, CustomStringConvertible {
    private enum Form: Sendable {
        case text(String)
        case value(JSONValue)
    }

    private let form: Form

    /// Text that has been validated as one complete JSON value.
    init(validated text: String) {
        form = .text(text)
    }

    /// A value parsed already, serialized only if an encoder needs its text.
    public init(_ value: JSONValue) {
        form = .value(value)
    }

    /// Parses and keeps `text` as it is; fails as `JSONValue(parsing:)` would.
    public init(parsing text: String) throws(JSONParseError) {
        _ = try JSONValue(parsing: text)
        form = .text(text)
    }

    /// The value as a tree (parsed on demand when it arrived as text).
    public var value: JSONValue {
        switch form {
        case .value(let value): return value
        case .text(let text):
            do {
                return try JSONValue(parsing: text)
            } catch {
                // Validated when it was made (one level shallower than here), so this cannot happen.
                assertionFailure("kept JSON text no longer parses: \(error)")
                return .null
            }
        }
    }

    /// Appends the JSON text: the received bytes as they were, or the tree's compact serialization.
    public func write(to output: inout String) {
        switch form {
        case .text(let text): output += text
        case .value(let value): value.write(to: &output)
        }
    }

    /// The JSON text.
    public var description: String {
        var output = ""
        write(to: &output)
        return output
    }

    /// About how many bytes this takes on the wire, for the byte bounds of queues and resume history.
    public var estimatedWireSize: Int {
        switch form {
        case .text(let text): return text.utf8.count
        case .value(let value): return value.estimatedWireSize
        }
    }

    public static func == (lhs: JSONText, rhs: JSONText) -> Bool {
        if case .text(let left) = lhs.form, case .text(let right) = rhs.form, left == right { return true }
        return lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value)
    }
}

extension JSONText: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self.init(.string(value)) }
    public init(integerLiteral value: Int64) { self.init(.integer(value)) }
    public init(floatLiteral value: Double) { self.init(.double(value)) }
    public init(booleanLiteral value: Bool) { self.init(.bool(value)) }
    public init(arrayLiteral elements: JSONValue...) { self.init(.array(elements)) }
    public init(nilLiteral: ()) { self.init(.null) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(.object(Dictionary(elements, uniquingKeysWith: { _, last in last })))
    }
}

extension JSONText {
    /// JSON `null`.
    public static let null = JSONText(JSONValue.null)
    /// A whole number.
    public static func integer(_ value: Int64) -> JSONText { JSONText(JSONValue.integer(value)) }
    /// A string.
    public static func string(_ value: String) -> JSONText { JSONText(JSONValue.string(value)) }
    /// An object.
    public static func object(_ members: [String: JSONValue]) -> JSONText { JSONText(JSONValue.object(members)) }
    /// An array.
    public static func array(_ elements: [JSONValue]) -> JSONText { JSONText(JSONValue.array(elements)) }
}
