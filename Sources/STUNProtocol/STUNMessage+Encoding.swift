import NIOCore

extension STUNMessage {
    /// Writes the message: header, attributes (padded to 4 bytes with zeros), then MESSAGE-INTEGRITY or
    /// MESSAGE-INTEGRITY-SHA256 when `integrity` is given, then FINGERPRINT when asked.
    ///
    /// Attributes named MESSAGE-INTEGRITY(-SHA256) or FINGERPRINT in `attributes` are skipped: the encoder
    /// computes them. Every byte written is explicit, so no stale memory can leak (coturn CVE-2020-4067).
    public func encode(
        into buffer: inout ByteBuffer, integrity: (kind: STUNIntegrityKind, key: STUNIntegrityKey)? = nil,
        fingerprint: Bool = false
    ) {
        let start = buffer.writerIndex
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(Self.magicCookie)
        buffer.writeInteger(transactionID.high)
        buffer.writeInteger(transactionID.low)
        for attribute in attributes
        where attribute.type != .messageIntegrity && attribute.type != .messageIntegritySHA256
            && attribute.type != .fingerprint
        {
            Self.writeAttribute(attribute.type, value: attribute.value, into: &buffer)
        }
        if let integrity {
            let offset = buffer.writerIndex - start
            let message = buffer.getSlice(at: start, length: offset)!
            let mac: [UInt8]
            let type: STUNAttributeType
            switch integrity.kind {
            case .sha1:
                mac = STUNIntegrity.sha1(of: message, upTo: offset, key: integrity.key.bytes)
                type = .messageIntegrity
            case .sha256:
                // The length field is read back by sha256(of:) for the attribute's size, so write the header first.
                type = .messageIntegritySHA256
                var withHeader = message
                withHeader.writeInteger(type.rawValue)
                withHeader.writeInteger(UInt16(32))
                mac = STUNIntegrity.sha256(of: withHeader, upTo: offset, key: integrity.key.bytes)
            }
            buffer.writeInteger(type.rawValue)
            buffer.writeInteger(UInt16(mac.count))
            buffer.writeBytes(mac)
        }
        if fingerprint {
            let offset = buffer.writerIndex - start
            buffer.setInteger(UInt16(offset + 8 - Self.headerSize), at: start + 2)
            let value = STUNFingerprint.value(of: buffer.getSlice(at: start, length: offset)!, upTo: offset)
            buffer.writeInteger(STUNAttributeType.fingerprint.rawValue)
            buffer.writeInteger(UInt16(4))
            buffer.writeInteger(value)
        }
        buffer.setInteger(UInt16(buffer.writerIndex - start - Self.headerSize), at: start + 2)
    }

    /// The encoded message in a new buffer.
    public func encoded(
        integrity: (kind: STUNIntegrityKind, key: STUNIntegrityKey)? = nil, fingerprint: Bool = false
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        encode(into: &buffer, integrity: integrity, fingerprint: fingerprint)
        return buffer
    }

    /// Writes one TLV with zero padding.
    static func writeAttribute(_ type: STUNAttributeType, value: ByteBuffer, into buffer: inout ByteBuffer) {
        let length = value.readableBytes
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(length))
        buffer.writeImmutableBuffer(value)
        let padding = (4 - length % 4) % 4
        if padding > 0 { buffer.writeRepeatingByte(0, count: padding) }
    }
}
