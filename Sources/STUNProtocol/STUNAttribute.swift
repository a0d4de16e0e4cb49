import NIOCore

/// One attribute as found on the wire: a type and its value bytes (without padding).
public struct STUNAttribute: Hashable, Sendable {
    /// The attribute type.
    public var type: STUNAttributeType
    /// The value, without the padding that follows it on the wire.
    public var value: ByteBuffer

    /// Creates an attribute from its type and value.
    public init(type: STUNAttributeType, value: ByteBuffer) {
        self.type = type
        self.value = value
    }

    /// Creates an attribute from its type and value bytes.
    public init(type: STUNAttributeType, bytes: some Sequence<UInt8>) {
        self.init(type: type, value: ByteBuffer(bytes: bytes))
    }
}
