/// The 96-bit STUN transaction id, held in two integers so it hashes and compares without allocating.
public struct TransactionID: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 bytes, big-endian.
    public var high: UInt64
    /// The last 4 bytes, big-endian.
    public var low: UInt32

    /// Creates an id from its two parts.
    public init(high: UInt64, low: UInt32) {
        self.high = high
        self.low = low
    }

    /// Creates an id from exactly 12 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 12 else { return nil }
        var high: UInt64 = 0
        var low: UInt32 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt32(byte) }
        }
        self.init(high: high, low: low)
    }

    /// A random id, as clients must choose them (RFC 8489 §6).
    public static func random() -> TransactionID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A random id from the given generator.
    public static func random(using generator: inout some RandomNumberGenerator) -> TransactionID {
        TransactionID(high: generator.next(), low: generator.next())
    }

    /// The 12 bytes, big-endian.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * $0)) }
    }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
