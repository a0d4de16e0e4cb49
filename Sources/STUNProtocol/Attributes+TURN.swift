import NIOCore

/// CHANNEL-NUMBER (0x000C): a channel number and two reserved bytes (RFC 8656 §18.1).
public struct ChannelNumber: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.channelNumber
    /// Channels a client may bind: 0x4000–0x4FFF (RFC 8656 §12).
    public static let validRange: ClosedRange<UInt16> = 0x4000...0x4FFF
    /// The number.
    public var number: UInt16
    /// Wraps a number.
    public init(_ number: UInt16) { self.number = number }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes == 4, let number = value.getInteger(at: value.readerIndex, as: UInt16.self)
        else { throw .malformedAttribute(Self.attributeType) }
        self.number = number
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeInteger(number)
        buffer.writeInteger(UInt16(0))
    }
}

/// LIFETIME (0x000D): seconds until the allocation expires (RFC 8656 §18.2).
public struct Lifetime: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.lifetime
    /// Seconds.
    public var seconds: UInt32
    /// Wraps seconds.
    public init(seconds: UInt32) { self.seconds = seconds }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes == 4, let seconds = value.getInteger(at: value.readerIndex, as: UInt32.self)
        else { throw .malformedAttribute(Self.attributeType) }
        self.seconds = seconds
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeInteger(seconds)
    }
}

/// An attribute holding one address family byte followed by three reserved bytes.
public protocol STUNFamilyAttribute: STUNAttributeValue {
    /// The family.
    var family: AddressFamily { get }
    /// Wraps a family.
    init(_ family: AddressFamily)
}

extension STUNFamilyAttribute {
    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes == 4, let byte = value.getInteger(at: value.readerIndex, as: UInt8.self),
            let family = AddressFamily(rawValue: byte)
        else { throw .malformedAttribute(Self.attributeType) }
        self.init(family)
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeInteger(family.rawValue)
        buffer.writeRepeatingByte(0, count: 3)
    }
}

/// REQUESTED-ADDRESS-FAMILY (0x0017): the family of the relayed address wanted (RFC 8656 §18.6).
public struct RequestedAddressFamily: STUNFamilyAttribute {
    public static let attributeType = STUNAttributeType.requestedAddressFamily
    public var family: AddressFamily
    public init(_ family: AddressFamily) { self.family = family }
}

/// ADDITIONAL-ADDRESS-FAMILY (0x8000): asks for an IPv6 relayed address besides the IPv4 one (RFC 8656 §18.12).
public struct AdditionalAddressFamily: STUNFamilyAttribute {
    public static let attributeType = STUNAttributeType.additionalAddressFamily
    public var family: AddressFamily
    public init(_ family: AddressFamily) { self.family = family }
}

/// EVEN-PORT (0x0018): the relayed port must be even; with R set, reserve the next port too (RFC 8656 §18.7).
public struct EvenPort: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.evenPort
    /// The R bit.
    public var reserveNextPort: Bool
    /// Creates the attribute.
    public init(reserveNextPort: Bool) { self.reserveNextPort = reserveNextPort }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes == 1, let byte = value.getInteger(at: value.readerIndex, as: UInt8.self)
        else { throw .malformedAttribute(Self.attributeType) }
        reserveNextPort = byte & 0x80 != 0
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeInteger(UInt8(reserveNextPort ? 0x80 : 0))
    }
}

/// REQUESTED-TRANSPORT (0x0019): the relay's transport protocol number; 17 (UDP) here (RFC 8656 §18.8).
public struct RequestedTransport: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.requestedTransport
    /// UDP's IANA protocol number.
    public static let udp: UInt8 = 17
    /// The protocol number.
    public var protocolNumber: UInt8
    /// Creates the attribute.
    public init(protocolNumber: UInt8) { self.protocolNumber = protocolNumber }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes == 4, let byte = value.getInteger(at: value.readerIndex, as: UInt8.self)
        else { throw .malformedAttribute(Self.attributeType) }
        protocolNumber = byte
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeInteger(protocolNumber)
        buffer.writeRepeatingByte(0, count: 3)
    }
}

/// DONT-FRAGMENT (0x001A): set the DF bit on datagrams to peers (RFC 8656 §18.9). No value.
public struct DontFragment: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.dontFragment
    /// Creates the attribute.
    public init() {}

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes == 0 else { throw .malformedAttribute(Self.attributeType) }
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {}
}

/// RESERVATION-TOKEN (0x0022): names a port reserved by an earlier EVEN-PORT allocation (RFC 8656 §18.10).
public struct ReservationToken: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.reservationToken
    /// The 8-byte token.
    public var token: UInt64
    /// Wraps a token.
    public init(_ token: UInt64) { self.token = token }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes == 8, let token = value.getInteger(at: value.readerIndex, as: UInt64.self)
        else { throw .malformedAttribute(Self.attributeType) }
        self.token = token
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeInteger(token)
    }
}
