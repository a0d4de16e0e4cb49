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
            let text = value.getValidatedUTF8String(at: value.readerIndex, length: value.readableBytes)
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

extension ByteBuffer {
    /// The bytes at `index` as text if they are valid UTF-8, else `nil`.
    ///
    /// Never repaired: U+FFFD for a bad sequence would make different bytes read as one string (a truncated
    /// 4-byte sequence even keeps the length), and the string would encode to bytes other than those received.
    func getValidatedUTF8String(at index: Int, length: Int) -> String? {
        guard let bytes = viewBytes(at: index, length: length) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}
