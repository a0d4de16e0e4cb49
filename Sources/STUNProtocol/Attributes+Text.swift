import NIOCore

/// An attribute whose value is UTF-8 text with a maximum size.
public protocol STUNTextAttribute: STUNAttributeValue {
    /// The text.
    var text: String { get }
    /// Wraps text.
    init(_ text: String)
    /// The largest value in bytes RFC 8489 §14 allows.
    static var maximumBytes: Int { get }
}

extension STUNTextAttribute {
    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes <= Self.maximumBytes,
            let text = value.getString(at: value.readerIndex, length: value.readableBytes),
            Array(text.utf8).count == value.readableBytes
        else { throw .malformedAttribute(Self.attributeType) }
        self.init(text)
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeString(text)
    }
}

/// USERNAME (0x0006): fewer than 513 bytes (RFC 8489 §14.3).
public struct Username: STUNTextAttribute {
    public static let attributeType = STUNAttributeType.username
    public static let maximumBytes = 512
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// REALM (0x0014): fewer than 128 characters, at most 763 bytes (RFC 8489 §14.9).
public struct Realm: STUNTextAttribute {
    public static let attributeType = STUNAttributeType.realm
    public static let maximumBytes = 763
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// NONCE (0x0015): fewer than 128 characters, at most 763 bytes (RFC 8489 §14.10).
public struct Nonce: STUNTextAttribute {
    public static let attributeType = STUNAttributeType.nonce
    public static let maximumBytes = 763
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// SOFTWARE (0x8022): fewer than 128 characters, at most 763 bytes (RFC 8489 §14.14).
public struct Software: STUNTextAttribute {
    public static let attributeType = STUNAttributeType.software
    public static let maximumBytes = 763
    public var text: String
    public init(_ text: String) { self.text = text }
}
