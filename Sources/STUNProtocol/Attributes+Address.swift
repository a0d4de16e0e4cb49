import NIOCore

/// Reads and writes the address encoding shared by MAPPED-ADDRESS, ALTERNATE-SERVER and the XOR-…-ADDRESS
/// attributes (RFC 8489 §14.1–14.2): a reserved byte, the family, the port, then 4 or 16 address bytes.
enum AddressCodec {
    static func decode(
        _ value: ByteBuffer, type: STUNAttributeType, xorWith transactionID: TransactionID?
    ) throws(STUNDecodingError) -> TransportAddress {
        guard let familyByte = value.getInteger(at: value.readerIndex + 1, as: UInt8.self),
            let family = AddressFamily(rawValue: familyByte),
            let rawPort = value.getInteger(at: value.readerIndex + 2, as: UInt16.self)
        else { throw .malformedAttribute(type) }
        let expected = family == .ipv4 ? 8 : 20
        guard value.readableBytes == expected, var bytes = value.getBytes(at: value.readerIndex + 4, length: expected - 4)
        else { throw .malformedAttribute(type) }
        var port = rawPort
        if let transactionID {
            port ^= UInt16(STUNMessage.magicCookie >> 16)
            let mask = xorMask(transactionID)
            for index in bytes.indices { bytes[index] ^= mask[index] }
        }
        guard let ip = IPAddress(bytes: bytes) else { throw .malformedAttribute(type) }
        return TransportAddress(ip: ip, port: port)
    }

    static func encode(_ address: TransportAddress, into buffer: inout ByteBuffer, xorWith transactionID: TransactionID?) {
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(address.ip.family.rawValue)
        var bytes = address.ip.bytes
        if let transactionID {
            buffer.writeInteger(address.port ^ UInt16(STUNMessage.magicCookie >> 16))
            let mask = xorMask(transactionID)
            for index in bytes.indices { bytes[index] ^= mask[index] }
        } else {
            buffer.writeInteger(address.port)
        }
        buffer.writeBytes(bytes)
    }

    /// The magic cookie followed by the transaction id: what X-Address is XORed with.
    private static func xorMask(_ transactionID: TransactionID) -> [UInt8] {
        [0x21, 0x12, 0xA4, 0x42] + transactionID.bytes
    }
}

/// An attribute whose value is one transport address.
public protocol STUNAddressAttribute: STUNAttributeValue {
    /// The address.
    var address: TransportAddress { get }
    /// Wraps an address.
    init(_ address: TransportAddress)
    /// Whether the address is XORed with the cookie and transaction id.
    static var isXORed: Bool { get }
}

extension STUNAddressAttribute {
    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        self.init(try AddressCodec.decode(value, type: Self.attributeType, xorWith: Self.isXORed ? transactionID : nil))
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        AddressCodec.encode(address, into: &buffer, xorWith: Self.isXORed ? transactionID : nil)
    }
}

/// XOR-MAPPED-ADDRESS (0x0020): the client's address as the server saw it.
public struct XORMappedAddress: STUNAddressAttribute {
    public static let attributeType = STUNAttributeType.xorMappedAddress
    public static let isXORed = true
    public var address: TransportAddress
    public init(_ address: TransportAddress) { self.address = address }
}

/// XOR-PEER-ADDRESS (0x0012): a peer's address, as seen from the relay.
public struct XORPeerAddress: STUNAddressAttribute {
    public static let attributeType = STUNAttributeType.xorPeerAddress
    public static let isXORed = true
    public var address: TransportAddress
    public init(_ address: TransportAddress) { self.address = address }
}

/// XOR-RELAYED-ADDRESS (0x0016): the relayed transport address the server allocated.
public struct XORRelayedAddress: STUNAddressAttribute {
    public static let attributeType = STUNAttributeType.xorRelayedAddress
    public static let isXORed = true
    public var address: TransportAddress
    public init(_ address: TransportAddress) { self.address = address }
}

/// MAPPED-ADDRESS (0x0001): the legacy, un-XORed form of XOR-MAPPED-ADDRESS.
public struct MappedAddress: STUNAddressAttribute {
    public static let attributeType = STUNAttributeType.mappedAddress
    public static let isXORed = false
    public var address: TransportAddress
    public init(_ address: TransportAddress) { self.address = address }
}

/// ALTERNATE-SERVER (0x8023): where a 300 response redirects the client.
public struct AlternateServer: STUNAddressAttribute {
    public static let attributeType = STUNAttributeType.alternateServer
    public static let isXORed = false
    public var address: TransportAddress
    public init(_ address: TransportAddress) { self.address = address }
}
