import NIOCore

/// The FINGERPRINT value: CRC-32 (ISO HDLC) of the message up to the attribute, XOR 0x5354554E (RFC 8489 §14.7).
public enum STUNFingerprint {
    /// The XOR constant ("STUN").
    public static let xorValue: UInt32 = 0x5354_554E

    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }

    /// The fingerprint of `message`'s first `offset` bytes, whose header length must already count the FINGERPRINT.
    public static func value(of message: ByteBuffer, upTo offset: Int) -> UInt32 {
        message.withUnsafeReadableBytes { bytes in
            crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<offset]))
        } ^ xorValue
    }

    /// Plain CRC-32.
    public static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
