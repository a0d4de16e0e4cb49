import NIOCore

/// The error codes this server sends (RFC 8489 §14.8, RFC 8656 §19), with their standard reason phrases.
public enum STUNErrorCode: Int, Hashable, Sendable, CaseIterable, Error {
    case tryAlternate = 300
    case badRequest = 400
    case unauthenticated = 401
    case forbidden = 403
    case unknownAttribute = 420
    case allocationMismatch = 437
    case staleNonce = 438
    case addressFamilyNotSupported = 440
    case wrongCredentials = 441
    case unsupportedTransportProtocol = 442
    case peerAddressFamilyMismatch = 443
    case allocationQuotaReached = 486
    case serverError = 500
    case insufficientCapacity = 508

    /// The standard reason phrase; only these are sent, so no internals leak.
    public var reason: String {
        switch self {
        case .tryAlternate: "Try Alternate"
        case .badRequest: "Bad Request"
        case .unauthenticated: "Unauthenticated"
        case .forbidden: "Forbidden"
        case .unknownAttribute: "Unknown Attribute"
        case .allocationMismatch: "Allocation Mismatch"
        case .staleNonce: "Stale Nonce"
        case .addressFamilyNotSupported: "Address Family not Supported"
        case .wrongCredentials: "Wrong Credentials"
        case .unsupportedTransportProtocol: "Unsupported Transport Protocol"
        case .peerAddressFamilyMismatch: "Peer Address Family Mismatch"
        case .allocationQuotaReached: "Allocation Quota Reached"
        case .serverError: "Server Error"
        case .insufficientCapacity: "Insufficient Capacity"
        }
    }
}

/// ERROR-CODE (0x0009): class and number (300–699) and a UTF-8 reason of fewer than 128 characters.
public struct ErrorCodeAttribute: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.errorCode
    /// The numeric code, e.g. 401.
    public var code: Int
    /// The reason phrase.
    public var reason: String

    /// Creates an error with any code and reason.
    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// Creates one of the standard errors with its standard phrase.
    public init(_ code: STUNErrorCode) {
        self.init(code: code.rawValue, reason: code.reason)
    }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes >= 4, value.readableBytes <= 4 + 763,
            let classByte = value.getInteger(at: value.readerIndex + 2, as: UInt8.self),
            let number = value.getInteger(at: value.readerIndex + 3, as: UInt8.self),
            (3...6).contains(classByte & 0x07), number < 100
        else { throw .malformedAttribute(Self.attributeType) }
        self.init(code: Int(classByte & 0x07) * 100 + Int(number), reason: Self.reason(in: value))
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(UInt8(code / 100))
        buffer.writeInteger(UInt8(code % 100))
        buffer.writeString(reason)
    }

    /// The reason phrase after the 4-byte code of an ERROR-CODE or ADDRESS-ERROR-CODE value, or "" if it is not UTF-8.
    ///
    /// RFC 8489 §14.8 requires UTF-8. The code is what a client acts on, so a bad phrase is dropped rather than the
    /// error refused; repairing it instead could triple its size past the 763 bytes a reader accepts.
    static func reason(in value: ByteBuffer) -> String {
        value.getValidatedUTF8String(at: value.readerIndex + 4, length: value.readableBytes - 4) ?? ""
    }
}

/// UNKNOWN-ATTRIBUTES (0x000A): the comprehension-required types a 420 complains about.
public struct UnknownAttributes: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.unknownAttributes
    /// The types not understood.
    public var types: [STUNAttributeType]

    /// Lists types.
    public init(_ types: [STUNAttributeType]) {
        self.types = types
    }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes % 2 == 0 else { throw .malformedAttribute(Self.attributeType) }
        types = stride(from: 0, to: value.readableBytes, by: 2).compactMap {
            value.getInteger(at: value.readerIndex + $0, as: UInt16.self).map(STUNAttributeType.init(rawValue:))
        }
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        for type in types { buffer.writeInteger(type.rawValue) }
    }
}

/// ADDRESS-ERROR-CODE (0x8001): why one family of a dual allocation failed (RFC 8656 §18.13).
public struct AddressErrorCode: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.addressErrorCode
    /// The family that could not be allocated.
    public var family: AddressFamily
    /// The error code, e.g. 440.
    public var code: Int
    /// The reason phrase.
    public var reason: String

    /// Creates the attribute.
    public init(family: AddressFamily, code: STUNErrorCode) {
        self.family = family
        self.code = code.rawValue
        self.reason = code.reason
    }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        // The code is ERROR-CODE's: class 3-6 and number 0-99 (RFC 8656 §18.13, RFC 8489 §14.8). Anything else
        // would decode to a code outside 300-699 that the encoder cannot write back.
        guard value.readableBytes >= 4, value.readableBytes <= 4 + 763,
            let familyByte = value.getInteger(at: value.readerIndex, as: UInt8.self),
            let family = AddressFamily(rawValue: familyByte),
            let classByte = value.getInteger(at: value.readerIndex + 2, as: UInt8.self),
            let number = value.getInteger(at: value.readerIndex + 3, as: UInt8.self),
            (3...6).contains(classByte & 0x07), number < 100
        else { throw .malformedAttribute(Self.attributeType) }
        self.family = family
        self.code = Int(classByte & 0x07) * 100 + Int(number)
        self.reason = ErrorCodeAttribute.reason(in: value)
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeInteger(family.rawValue)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt8(code / 100))
        buffer.writeInteger(UInt8(code % 100))
        buffer.writeString(reason)
    }
}
