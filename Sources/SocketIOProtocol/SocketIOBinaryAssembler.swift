import SignalingCore

/// Collects the binary messages that follow a BINARY_EVENT or BINARY_ACK header, one connection each.
public struct SocketIOBinaryAssembler: Sendable {
    private var pending: SocketIOPacket?
    private var expected = 0

    public init() {}

    /// Whether a header is waiting for attachments (a text packet now is a protocol error).
    public var isAwaitingAttachments: Bool { pending != nil }

    /// Takes a parsed header; returns the packet at once when it needs no attachments.
    public mutating func begin(_ packet: SocketIOPacket, attachmentCount: Int) throws(SocketIOParseError) -> SocketIOPacket? {
        guard pending == nil else { throw SocketIOParseError("a packet arrived while attachments were expected") }
        // Placeholders mean something only in binary packets; elsewhere they are plain data, as in the reference.
        guard attachmentCount > 0 else { return packet.type.isBinary ? try Self.checked(packet) : packet }
        pending = packet
        expected = attachmentCount
        return nil
    }

    /// Takes one binary message; returns the packet once its last attachment is in.
    public mutating func add(_ attachment: [UInt8]) throws(SocketIOParseError) -> SocketIOPacket? {
        guard var packet = pending else { throw SocketIOParseError("unexpected binary attachment") }
        packet.attachments.append(attachment)
        guard packet.attachments.count == expected else {
            pending = packet
            return nil
        }
        pending = nil
        return try Self.checked(packet)
    }

    /// Every placeholder must name an attachment that came (socket.io-parser's `reconstructPacket`).
    static func checked(_ packet: SocketIOPacket) throws(SocketIOParseError) -> SocketIOPacket {
        var valid = true
        func visit(_ value: JSONValue) {
            switch value {
            case .object(let members) where members["_placeholder"] == .bool(true):
                guard let number = members["num"]?.integerValue, number >= 0, number < packet.attachments.count else {
                    valid = false
                    return
                }
            case .object(let members): members.values.forEach(visit)
            case .array(let items): items.forEach(visit)
            default: break
            }
        }
        if let data = packet.data { visit(data) }
        guard valid else { throw SocketIOParseError("illegal attachments") }
        return packet
    }
}
