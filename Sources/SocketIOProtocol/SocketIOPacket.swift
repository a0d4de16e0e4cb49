import SignalingCore

/// Socket.IO v5 packet types: one ASCII digit after the Engine.IO `4`.
public enum SocketIOPacketType: UInt8, Sendable, CaseIterable {
    case connect = 0
    case disconnect = 1
    case event = 2
    case ack = 3
    case connectError = 4
    case binaryEvent = 5
    case binaryAck = 6

    /// Whether binary attachments follow the packet.
    public var isBinary: Bool { self == .binaryEvent || self == .binaryAck }
}

/// One Socket.IO packet: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`.
///
/// Binary attachments stay apart from `data`, which holds `{"_placeholder":true,"num":N}` where each goes.
public struct SocketIOPacket: Hashable, Sendable {
    public var type: SocketIOPacketType
    /// The namespace, `/` unless another was named.
    public var namespace: String
    /// The ack id, when the sender wants an acknowledgement (or this acknowledges one).
    public var id: UInt64?
    /// The JSON payload, if any.
    public var data: JSONValue?
    /// The binary attachments of a BINARY_EVENT or BINARY_ACK, in placeholder order.
    public var attachments: [[UInt8]]

    public init(
        _ type: SocketIOPacketType, namespace: String = "/", id: UInt64? = nil, data: JSONValue? = nil,
        attachments: [[UInt8]] = []
    ) {
        self.type = type
        self.namespace = namespace
        self.id = id
        self.data = data
        self.attachments = attachments
    }

    /// Event names a client may not emit: the reference server keeps them for itself.
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]
}

/// Input that breaks the Socket.IO parser rules; the connection that sent it is closed.
public struct SocketIOParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension SocketIOPacket {
    /// Longest ack id accepted, in digits (it must fit in 64 bits).
    public static let maximumAckIDDigits = 18

    /// Parses the text of one packet (the Engine.IO message without its `4`), following socket.io-parser's
    /// `decodeString` and `isPayloadValid`. A binary packet comes back with no attachments yet and
    /// `attachmentCount` says how many binary messages complete it.
    public static func parse(_ text: String, maximumAttachments: Int = 10) throws(SocketIOParseError) -> (
        packet: SocketIOPacket, attachmentCount: Int
    ) {
        var rest = Substring(text)
        guard let first = rest.first, let digit = first.asciiValue, digit >= UInt8(ascii: "0"),
            let type = SocketIOPacketType(rawValue: digit - UInt8(ascii: "0"))
        else { throw SocketIOParseError("unknown packet type") }
        rest = rest.dropFirst()

        var attachmentCount = 0
        if type.isBinary {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(digits.count)
            guard !digits.isEmpty, digits.count <= 3, rest.first == "-", let count = Int(digits), count <= maximumAttachments
            else { throw SocketIOParseError("illegal attachments") }
            attachmentCount = count
            rest = rest.dropFirst()
        }

        var packet = SocketIOPacket(type)
        if rest.first == "/" {
            let end = rest.firstIndex(of: ",") ?? rest.endIndex
            packet.namespace = String(rest[..<end])
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
        }

        let idDigits = rest.prefix { $0.isASCII && $0.isNumber }
        if !idDigits.isEmpty {
            guard idDigits.count <= maximumAckIDDigits, let id = UInt64(idDigits) else {
                throw SocketIOParseError("ack id too long")
            }
            packet.id = id
            rest = rest.dropFirst(idDigits.count)
        }

        if !rest.isEmpty {
            do {
                packet.data = try JSONValue(parsing: String(rest))
            } catch {
                throw SocketIOParseError("invalid payload: \(error)")
            }
        }
        guard packet.hasValidPayload else { throw SocketIOParseError("invalid payload for \(type)") }
        return (packet, attachmentCount)
    }

    /// socket.io-parser's `isPayloadValid`.
    var hasValidPayload: Bool {
        switch type {
        case .connect:
            guard let data else { return true }
            return data.objectValue != nil
        case .disconnect:
            return data == nil
        case .connectError:
            guard let data else { return false }
            return data.stringValue != nil || data.objectValue != nil
        case .event, .binaryEvent:
            guard case .array(let items)? = data, let name = items.first else { return false }
            switch name {
            case .integer, .double: return true
            case .string(let text): return !Self.reservedEventNames.contains(text)
            default: return false
            }
        case .ack, .binaryAck:
            guard case .array? = data else { return false }
            return true
        }
    }

    /// The packet's text (without the Engine.IO `4`); attachments, if any, go out after it as binary messages.
    public var encoded: String {
        var output = String(type.rawValue)
        if type.isBinary { output += "\(attachments.count)-" }
        if namespace != "/" { output += namespace + "," }
        if let id { output += String(id) }
        if let data { output += data.serialized }
        return output
    }

    /// The event name and arguments of an EVENT or BINARY_EVENT.
    public var event: (name: String, arguments: [JSONValue])? {
        guard type == .event || type == .binaryEvent, case .array(let items)? = data, let name = items.first?.stringValue
        else { return nil }
        return (name, Array(items.dropFirst()))
    }
}
