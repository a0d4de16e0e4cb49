import NIOCore

/// A STUN message (RFC 8489 §5): a type, a transaction id and attributes in wire order.
///
/// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are not kept here when encoding: the
/// encoder appends them (see `encode(into:integrity:fingerprint:)`). A decoded message keeps them so they
/// can be verified (see `STUNParsedMessage`).
public struct STUNMessage: Hashable, Sendable {
    /// The fixed value in bytes 4–7 of every RFC 5389/8489 message.
    public static let magicCookie: UInt32 = 0x2112_A442
    /// The header size.
    public static let headerSize = 20

    /// Method and class.
    public var type: STUNMessageType
    /// The transaction id.
    public var transactionID: TransactionID
    /// The attributes, in order.
    public var attributes: [STUNAttribute]

    /// Creates a message.
    public init(type: STUNMessageType, transactionID: TransactionID, attributes: [STUNAttribute] = []) {
        self.type = type
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// The first attribute of a type, if any.
    public func attribute(_ type: STUNAttributeType) -> STUNAttribute? {
        attributes.first { $0.type == type }
    }

    /// Whether an attribute of the type is present.
    public func contains(_ type: STUNAttributeType) -> Bool {
        attributes.contains { $0.type == type }
    }

    /// Every attribute of a type, in order.
    public func attributes(_ type: STUNAttributeType) -> [STUNAttribute] {
        attributes.filter { $0.type == type }
    }

    /// Reads the first attribute of `A`'s type; `nil` if absent, an error if present but malformed.
    public func get<A: STUNAttributeValue>(_: A.Type) throws(STUNDecodingError) -> A? {
        guard let raw = attribute(A.attributeType) else { return nil }
        return try A(decoding: raw.value, transactionID: transactionID)
    }

    /// Reads every attribute of `A`'s type.
    public func getAll<A: STUNAttributeValue>(_: A.Type) throws(STUNDecodingError) -> [A] {
        var result: [A] = []
        for raw in attributes where raw.type == A.attributeType {
            result.append(try A(decoding: raw.value, transactionID: transactionID))
        }
        return result
    }

    /// Appends a typed attribute.
    public mutating func add(_ attribute: some STUNAttributeValue) {
        var value = ByteBuffer()
        attribute.encode(into: &value, transactionID: transactionID)
        attributes.append(STUNAttribute(type: Swift.type(of: attribute).attributeType, value: value))
    }

    /// Comprehension-required attribute types that are not understood (RFC 8489 §6.3.1: a request gets 420).
    public var unknownComprehensionRequiredTypes: [STUNAttributeType] {
        var seen: [STUNAttributeType] = []
        for attribute in attributes
        where attribute.type.isComprehensionRequired && !STUNAttributeType.understood.contains(attribute.type)
            && !seen.contains(attribute.type)
        {
            seen.append(attribute.type)
        }
        return seen
    }
}

/// A typed attribute: it knows its type and how to read and write its value (the pion/stun shape).
public protocol STUNAttributeValue: Hashable, Sendable {
    /// The attribute type this value is carried in.
    static var attributeType: STUNAttributeType { get }
    /// Reads the value; XOR-encoded addresses need the message's transaction id.
    init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError)
    /// Writes the value (without padding).
    func encode(into buffer: inout ByteBuffer, transactionID: TransactionID)
}
