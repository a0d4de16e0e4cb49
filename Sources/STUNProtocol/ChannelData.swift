import NIOCore

/// ChannelData messages (RFC 8656 §12.4): a channel number, a length and application data, with no STUN header.
public enum ChannelData {
    /// The header size: channel number and length.
    public static let headerSize = 4

    /// Whether a packet starting with this byte is ChannelData: 64–79 (RFC 8656 §12 / RFC 7983), or 64–127 when the
    /// RFC 5766 channel range 0x4000–0x7FFF is accepted for old clients.
    @inlinable
    public static func isChannelData(firstByte: UInt8, rfc5766Range: Bool = false) -> Bool {
        rfc5766Range ? firstByte & 0xC0 == 0x40 : firstByte & 0xF0 == 0x40
    }

    /// Whether a packet starting with this byte may be STUN (0–3).
    @inlinable
    public static func isSTUN(firstByte: UInt8) -> Bool {
        firstByte < 4
    }

    /// Reads a ChannelData datagram: `nil` if it is shorter than its length field says (§12.5: discard).
    /// The payload is a slice of `buffer`: no bytes are copied. Bytes beyond the length (padding) are ignored.
    @inlinable
    public static func parseDatagram(_ buffer: ByteBuffer) -> (channel: UInt16, payload: ByteBuffer)? {
        guard let channel = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self),
            let payload = buffer.getSlice(at: buffer.readerIndex + headerSize, length: Int(length))
        else { return nil }
        return (channel, payload)
    }

    /// Writes a ChannelData message; over TCP/TLS `padded` adds zeros up to a multiple of 4 (§12.5).
    @inlinable
    public static func write(channel: UInt16, payload: ByteBuffer, padded: Bool, into buffer: inout ByteBuffer) {
        let length = payload.readableBytes
        buffer.writeInteger(channel)
        buffer.writeInteger(UInt16(truncatingIfNeeded: length))
        buffer.writeImmutableBuffer(payload)
        if padded, length % 4 != 0 { buffer.writeRepeatingByte(0, count: 4 - length % 4) }
    }
}
