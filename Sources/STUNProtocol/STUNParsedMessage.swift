import NIOCore

/// A decoded message together with its wire bytes, so its integrity and fingerprint can be checked.
public struct STUNParsedMessage: Sendable {
    /// The message, with attributes that follow MESSAGE-INTEGRITY dropped as RFC 8489 §14.5 requires
    /// (except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT).
    public var message: STUNMessage
    /// The whole message as received.
    public var raw: ByteBuffer
    /// Offset of the MESSAGE-INTEGRITY attribute header within `raw`.
    public var integrityOffset: Int?
    /// Offset of the MESSAGE-INTEGRITY-SHA256 attribute header within `raw`.
    public var integritySHA256Offset: Int?
    /// Offset of the FINGERPRINT attribute header within `raw`.
    public var fingerprintOffset: Int?

    /// The size a message starting with this header has, or `nil` if the first bytes are not a STUN header.
    ///
    /// Used by stream framing: checks the leading bits, the cookie and length alignment.
    public static func messageSize(peekingAt buffer: ByteBuffer) -> Int?? {
        guard buffer.readableBytes >= 8 else { return .some(nil) }
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt16.self),
            let length = buffer.getInteger(at: start + 2, as: UInt16.self),
            let cookie = buffer.getInteger(at: start + 4, as: UInt32.self)
        else { return .some(nil) }
        guard first & 0xC000 == 0, cookie == STUNMessage.magicCookie, length % 4 == 0 else { return nil }
        return .some(STUNMessage.headerSize + Int(length))
    }

    /// Decodes exactly one message occupying all readable bytes of `buffer`.
    public init(decoding buffer: ByteBuffer) throws(STUNDecodingError) {
        let start = buffer.readerIndex
        let total = buffer.readableBytes
        guard total >= STUNMessage.headerSize,
            let typeField = buffer.getInteger(at: start, as: UInt16.self),
            let length = buffer.getInteger(at: start + 2, as: UInt16.self),
            let cookie = buffer.getInteger(at: start + 4, as: UInt32.self),
            let high = buffer.getInteger(at: start + 8, as: UInt64.self),
            let low = buffer.getInteger(at: start + 16, as: UInt32.self),
            typeField & 0xC000 == 0, cookie == STUNMessage.magicCookie
        else { throw .notSTUN }
        guard Int(length) == total - STUNMessage.headerSize, length % 4 == 0 else { throw .badLength }
        let transactionID = TransactionID(high: high, low: low)
        var attributes: [STUNAttribute] = []
        var integrityOffset: Int? = nil
        var integritySHA256Offset: Int? = nil
        var fingerprintOffset: Int? = nil
        var offset = STUNMessage.headerSize
        while offset < total {
            guard total - offset >= 4,
                let rawType = buffer.getInteger(at: start + offset, as: UInt16.self),
                let valueLength = buffer.getInteger(at: start + offset + 2, as: UInt16.self)
            else { throw .truncatedAttribute(STUNAttributeType(rawValue: 0)) }
            let type = STUNAttributeType(rawValue: rawType)
            let padded = (Int(valueLength) + 3) & ~3
            guard total - offset - 4 >= padded, let value = buffer.getSlice(at: start + offset + 4, length: Int(valueLength))
            else { throw .truncatedAttribute(type) }
            if fingerprintOffset != nil { throw .misplacedAttribute(.fingerprint) }
            switch type {
            case .fingerprint:
                guard valueLength == 4 else { throw .malformedAttribute(type) }
                fingerprintOffset = offset
                attributes.append(STUNAttribute(type: type, value: value))
            case .messageIntegrity:
                guard valueLength == 20 else { throw .malformedAttribute(type) }
                if integrityOffset == nil, integritySHA256Offset == nil {
                    integrityOffset = offset
                    attributes.append(STUNAttribute(type: type, value: value))
                }
            case .messageIntegritySHA256:
                // §14.6: 16 to 32 bytes, a multiple of 4.
                guard (16...32).contains(valueLength), valueLength % 4 == 0 else { throw .malformedAttribute(type) }
                if integritySHA256Offset == nil {
                    integritySHA256Offset = offset
                    attributes.append(STUNAttribute(type: type, value: value))
                }
            default:
                // §14.5: everything after MESSAGE-INTEGRITY(-SHA256) except the ones above is ignored.
                if integrityOffset == nil, integritySHA256Offset == nil {
                    attributes.append(STUNAttribute(type: type, value: value))
                }
            }
            offset += 4 + padded
        }
        self.message = STUNMessage(
            type: STUNMessageType(rawValue: typeField), transactionID: transactionID, attributes: attributes)
        self.raw = buffer
        self.integrityOffset = integrityOffset
        self.integritySHA256Offset = integritySHA256Offset
        self.fingerprintOffset = fingerprintOffset
    }

    /// Whether a FINGERPRINT is present and matches (RFC 8489 §14.7). `nil` when there is none.
    public var fingerprintIsValid: Bool? {
        guard let offset = fingerprintOffset,
            let stored = raw.getInteger(at: raw.readerIndex + offset + 4, as: UInt32.self)
        else { return nil }
        return STUNFingerprint.value(of: raw, upTo: offset) == stored
    }

    /// Checks the message's integrity with `key`: MESSAGE-INTEGRITY-SHA256 when present, else MESSAGE-INTEGRITY.
    /// Returns `nil` when the message carries neither.
    public func integrityIsValid(key: STUNIntegrityKey) -> Bool? {
        if let offset = integritySHA256Offset {
            let length = Int(raw.getInteger(at: raw.readerIndex + offset + 2, as: UInt16.self) ?? 0)
            guard let stored = raw.getBytes(at: raw.readerIndex + offset + 4, length: length) else { return false }
            let computed = STUNIntegrity.sha256(of: raw, upTo: offset, key: key.bytes)
            return STUNIntegrity.constantTimeEqual(Array(computed.prefix(length)), stored)
        }
        if let offset = integrityOffset {
            guard let stored = raw.getBytes(at: raw.readerIndex + offset + 4, length: 20) else { return false }
            return STUNIntegrity.constantTimeEqual(STUNIntegrity.sha1(of: raw, upTo: offset, key: key.bytes), stored)
        }
        return nil
    }

    /// Which integrity attribute the message carries (SHA-256 wins when both are present).
    public var integrityKind: STUNIntegrityKind? {
        if integritySHA256Offset != nil { return .sha256 }
        if integrityOffset != nil { return .sha1 }
        return nil
    }
}
