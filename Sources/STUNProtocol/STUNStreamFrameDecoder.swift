import NIOCore

/// One frame read from a TURN TCP or TLS stream.
public enum STUNStreamFrame: Hashable, Sendable {
    /// A whole STUN message, to be decoded with `STUNParsedMessage(decoding:)`.
    case stun(ByteBuffer)
    /// A ChannelData message; its padding has been consumed.
    case channelData(channel: UInt16, payload: ByteBuffer)
}

/// The stream carries bytes that are neither STUN nor ChannelData: the connection must be closed.
public struct STUNStreamFramingError: Error, Hashable, Sendable {
    /// The offending first byte.
    public var firstByte: UInt8

    /// Creates the error.
    public init(firstByte: UInt8) {
        self.firstByte = firstByte
    }
}

/// Splits a TURN stream into STUN messages and ChannelData (RFC 8656 §12.5: ChannelData is padded to 4 bytes
/// on streams). Returns `nil` (need more bytes) on a short read, leaving the buffer untouched.
public struct STUNStreamFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = STUNStreamFrame

    private let rfc5766Range: Bool

    /// Creates a decoder; `rfc5766Range` also frames channels 0x5000–0x7FFF as ChannelData.
    public init(rfc5766Range: Bool = false) {
        self.rfc5766Range = rfc5766Range
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> STUNStreamFrame? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        if ChannelData.isChannelData(firstByte: first, rfc5766Range: rfc5766Range) {
            guard let channel = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
                let length = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self)
            else { return nil }
            let padded = (Int(length) + 3) & ~3
            guard buffer.readableBytes >= ChannelData.headerSize + padded else { return nil }
            buffer.moveReaderIndex(forwardBy: ChannelData.headerSize)
            let payload = buffer.readSlice(length: Int(length))!
            buffer.moveReaderIndex(forwardBy: padded - Int(length))
            return .channelData(channel: channel, payload: payload)
        }
        guard ChannelData.isSTUN(firstByte: first) else { throw STUNStreamFramingError(firstByte: first) }
        switch STUNParsedMessage.messageSize(peekingAt: buffer) {
        case .none: throw STUNStreamFramingError(firstByte: first)
        case .some(.none): return nil
        case .some(.some(let size)):
            guard buffer.readableBytes >= size else { return nil }
            return .stun(buffer.readSlice(length: size)!)
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> STUNStreamFrame? {
        try decode(buffer: &buffer)
    }
}
