import Foundation
import SignalingCore

/// Engine.IO v4 packet types: one ASCII digit on the wire.
public enum EngineIOPacketType: UInt8, Sendable, CaseIterable {
    case open = 0
    case close = 1
    case ping = 2
    case pong = 3
    case message = 4
    case upgrade = 5
    case noop = 6

    var digit: Character { Character(UnicodeScalar(UInt8(ascii: "0") + rawValue)) }
}

/// One Engine.IO packet. Only `message` packets may carry binary data.
public struct EngineIOPacket: Hashable, Sendable {
    /// A packet's data: text, or (for `message` only) bytes.
    public enum Payload: Hashable, Sendable {
        case text(String)
        case binary([UInt8])
    }

    public var type: EngineIOPacketType
    public var payload: Payload

    /// A packet of `type` with text data (empty for most control packets).
    public init(_ type: EngineIOPacketType, _ text: String = "") {
        self.type = type
        self.payload = .text(text)
    }

    /// A `message` carrying `payload`.
    public init(message payload: Payload) {
        self.type = .message
        self.payload = payload
    }

    /// A `message` carrying bytes.
    public static func binaryMessage(_ bytes: [UInt8]) -> EngineIOPacket {
        EngineIOPacket(message: .binary(bytes))
    }

    /// The text data, if any.
    public var text: String? {
        if case .text(let text) = payload { return text }
        return nil
    }
}

/// Input that is not an Engine.IO packet; the session that sent it is closed.
public struct EngineIOParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension EngineIOPacket {
    /// Decodes a WebSocket text frame or one polling record: `<type digit><data>`, or on polling
    /// `b<base64>` for a binary message.
    public init(parsing text: Substring, allowBase64: Bool) throws(EngineIOParseError) {
        guard let first = text.first else { throw EngineIOParseError("empty packet") }
        if first == "b" {
            guard allowBase64 else { throw EngineIOParseError("base64 packet outside polling") }
            guard let data = Data(base64Encoded: String(text.dropFirst())) else {
                throw EngineIOParseError("invalid base64 in binary packet")
            }
            self = .binaryMessage(Array(data))
            return
        }
        guard let digit = first.asciiValue, digit >= UInt8(ascii: "0"),
            let type = EngineIOPacketType(rawValue: digit - UInt8(ascii: "0"))
        else { throw EngineIOParseError("unknown packet type '\(first)'") }
        self.init(type, String(text.dropFirst()))
    }

    /// A WebSocket binary frame: a `message` whose data is the frame's bytes.
    public init(binaryFrame bytes: [UInt8]) {
        self = .binaryMessage(bytes)
    }

    /// The packet as one WebSocket frame: text `<digit><data>`, or the raw bytes of a binary message.
    public var webSocketFrame: Payload {
        switch payload {
        case .text(let text): return .text(String(type.digit) + text)
        case .binary(let bytes): return .binary(bytes)
        }
    }

    /// The packet as one polling record: text `<digit><data>`, or `b<base64>` for a binary message.
    public var pollingRecord: String {
        switch payload {
        case .text(let text): return String(type.digit) + text
        case .binary(let bytes): return "b" + Data(bytes).base64EncodedString()
        }
    }
}

/// HTTP long-polling bodies: packets joined by the record separator U+001E (Engine.IO v4).
public enum EngineIOPollingPayload {
    /// The separator between packets in one body.
    public static let recordSeparator: Character = "\u{1E}"

    /// The packets of a POST body, in order; any invalid packet fails the whole body.
    public static func decode(_ body: String) throws(EngineIOParseError) -> [EngineIOPacket] {
        var packets: [EngineIOPacket] = []
        for record in body.split(separator: recordSeparator, omittingEmptySubsequences: false) {
            packets.append(try EngineIOPacket(parsing: record, allowBase64: true))
        }
        return packets
    }

    /// One GET response body holding `packets`.
    public static func encode(_ packets: [EngineIOPacket]) -> String {
        packets.map(\.pollingRecord).joined(separator: String(recordSeparator))
    }
}

/// The `open` packet's data: exactly these five keys (the compliance suites check for no others).
public struct EngineIOHandshake: Hashable, Sendable {
    public var sid: String
    public var upgrades: [String]
    public var pingInterval: Int
    public var pingTimeout: Int
    public var maxPayload: Int

    public init(sid: String, upgrades: [String], pingInterval: Int, pingTimeout: Int, maxPayload: Int) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// The `open` packet.
    public var packet: EngineIOPacket {
        let fields: JSONValue = [
            "sid": .string(sid), "upgrades": .array(upgrades.map { .string($0) }),
            "pingInterval": .integer(Int64(pingInterval)), "pingTimeout": .integer(Int64(pingTimeout)),
            "maxPayload": .integer(Int64(maxPayload)),
        ]
        return EngineIOPacket(.open, fields.serialized)
    }
}
