import NIOCore

/// One entry of PASSWORD-ALGORITHM(S): an algorithm number and its parameters (RFC 8489 §14.11–14.12).
public struct PasswordAlgorithmEntry: Hashable, Sendable {
    /// The algorithm number (1 = MD5, 2 = SHA-256).
    public var algorithm: UInt16
    /// The parameters (none are defined for MD5 or SHA-256).
    public var parameters: [UInt8]

    /// Creates an entry.
    public init(algorithm: UInt16, parameters: [UInt8] = []) {
        self.algorithm = algorithm
        self.parameters = parameters
    }

    /// An entry for a known algorithm, without parameters.
    public init(_ algorithm: STUNPasswordAlgorithm) {
        self.init(algorithm: algorithm.rawValue)
    }

    static func read(from value: ByteBuffer, at offset: inout Int, type: STUNAttributeType) throws(STUNDecodingError)
        -> PasswordAlgorithmEntry
    {
        guard let number = value.getInteger(at: value.readerIndex + offset, as: UInt16.self),
            let length = value.getInteger(at: value.readerIndex + offset + 2, as: UInt16.self),
            let parameters = value.getBytes(at: value.readerIndex + offset + 4, length: Int(length))
        else { throw .malformedAttribute(type) }
        offset += 4 + ((Int(length) + 3) & ~3)
        guard offset <= value.readableBytes else { throw .malformedAttribute(type) }
        return PasswordAlgorithmEntry(algorithm: number, parameters: parameters)
    }

    func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(algorithm)
        buffer.writeInteger(UInt16(parameters.count))
        buffer.writeBytes(parameters)
        buffer.writeRepeatingByte(0, count: (4 - parameters.count % 4) % 4)
    }
}

/// PASSWORD-ALGORITHMS (0x8002): the algorithms a server offers, in preference order (RFC 8489 §14.11).
public struct PasswordAlgorithms: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.passwordAlgorithms
    /// The offered entries.
    public var entries: [PasswordAlgorithmEntry]
    /// Creates the attribute.
    public init(_ entries: [PasswordAlgorithmEntry]) { self.entries = entries }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        var offset = 0
        var entries: [PasswordAlgorithmEntry] = []
        while offset < value.readableBytes {
            entries.append(try PasswordAlgorithmEntry.read(from: value, at: &offset, type: Self.attributeType))
        }
        self.entries = entries
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        for entry in entries { entry.write(into: &buffer) }
    }
}

/// PASSWORD-ALGORITHM (0x001D): the algorithm a client chose (RFC 8489 §14.12).
public struct PasswordAlgorithm: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.passwordAlgorithm
    /// The chosen entry.
    public var entry: PasswordAlgorithmEntry
    /// Creates the attribute.
    public init(_ entry: PasswordAlgorithmEntry) { self.entry = entry }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        var offset = 0
        entry = try PasswordAlgorithmEntry.read(from: value, at: &offset, type: Self.attributeType)
        guard offset == value.readableBytes else { throw .malformedAttribute(Self.attributeType) }
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        entry.write(into: &buffer)
    }
}

/// USERHASH (0x001E): SHA-256 of `username ":" realm`, sent instead of USERNAME (RFC 8489 §14.4).
public struct Userhash: STUNAttributeValue {
    public static let attributeType = STUNAttributeType.userhash
    /// The 32-byte hash.
    public var hash: [UInt8]
    /// Wraps a hash.
    public init(_ hash: [UInt8]) { self.hash = hash }

    public init(decoding value: ByteBuffer, transactionID: TransactionID) throws(STUNDecodingError) {
        guard value.readableBytes == 32, let hash = value.getBytes(at: value.readerIndex, length: 32)
        else { throw .malformedAttribute(Self.attributeType) }
        self.hash = hash
    }

    public func encode(into buffer: inout ByteBuffer, transactionID: TransactionID) {
        buffer.writeBytes(hash)
    }
}
