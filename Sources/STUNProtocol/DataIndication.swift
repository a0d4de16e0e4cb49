import NIOCore

/// Writes a Data indication (RFC 8656 §11.4) straight into a buffer: the relay's peer-to-client path when no
/// channel is bound, so it builds no intermediate message.
public enum DataIndication {
    /// Bytes added around the payload for an IPv4 / IPv6 peer (header, XOR-PEER-ADDRESS, DATA header), before padding.
    public static func overhead(for family: AddressFamily) -> Int {
        STUNMessage.headerSize + 4 + (family == .ipv4 ? 8 : 20) + 4
    }

    /// Whether a payload of `payloadLength` bytes from a peer of `family` fits in one indication: the STUN length
    /// field counts at most 65,535 bytes of attributes, which an IPv6 datagram near its maximum exceeds.
    public static func fits(payloadLength: Int, family: AddressFamily) -> Bool {
        let padding = (4 - payloadLength % 4) % 4
        return overhead(for: family) - STUNMessage.headerSize + payloadLength + padding <= Int(UInt16.max)
    }

    /// Writes the indication carrying `payload` from `peer`.
    public static func write(
        transactionID: TransactionID, peer: TransportAddress, payload: ByteBuffer, into buffer: inout ByteBuffer
    ) {
        let padding = writeHeader(transactionID: transactionID, peer: peer, payloadLength: payload.readableBytes, into: &buffer)
        buffer.writeImmutableBuffer(payload)
        if padding > 0 { buffer.writeRepeatingByte(0, count: padding) }
    }

    /// Writes everything before the payload of an indication carrying `payloadLength` bytes from `peer`, and returns
    /// the zero bytes of padding the caller must write after the payload.
    public static func writeHeader(
        transactionID: TransactionID, peer: TransportAddress, payloadLength: Int, into buffer: inout ByteBuffer
    ) -> Int {
        let addressLength = peer.ip.family == .ipv4 ? 8 : 20
        let padding = (4 - payloadLength % 4) % 4
        let bodyLength = 4 + addressLength + 4 + payloadLength + padding
        buffer.writeInteger(STUNMessageType(method: .data, messageClass: .indication).rawValue)
        buffer.writeInteger(UInt16(truncatingIfNeeded: bodyLength))
        buffer.writeInteger(STUNMessage.magicCookie)
        buffer.writeInteger(transactionID.high)
        buffer.writeInteger(transactionID.low)
        buffer.writeInteger(STUNAttributeType.xorPeerAddress.rawValue)
        buffer.writeInteger(UInt16(addressLength))
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(peer.ip.family.rawValue)
        buffer.writeInteger(peer.port ^ UInt16(STUNMessage.magicCookie >> 16))
        switch peer.ip {
        case .v4(let value):
            buffer.writeInteger(value ^ STUNMessage.magicCookie)
        case .v6(let high, let low):
            let cookieAndID = UInt64(STUNMessage.magicCookie) << 32 | transactionID.high >> 32
            let idTail = transactionID.high << 32 | UInt64(transactionID.low)
            buffer.writeInteger(high ^ cookieAndID)
            buffer.writeInteger(low ^ idTail)
        }
        buffer.writeInteger(STUNAttributeType.data.rawValue)
        buffer.writeInteger(UInt16(truncatingIfNeeded: payloadLength))
        return padding
    }
}
