import Crypto
import NIOCore

/// Which message-integrity attribute protects a message.
public enum STUNIntegrityKind: Hashable, Sendable {
    /// MESSAGE-INTEGRITY: HMAC-SHA1, 20 bytes (RFC 8489 §14.5).
    case sha1
    /// MESSAGE-INTEGRITY-SHA256: HMAC-SHA256, 32 bytes here (RFC 8489 §14.6).
    case sha256
}

/// The password algorithms of RFC 8489 §18.5.
public enum STUNPasswordAlgorithm: UInt16, Hashable, Sendable, CaseIterable {
    /// MD5 of `username:realm:password` (the RFC 5389 long-term key).
    case md5 = 0x0001
    /// SHA-256 of `username:realm:password`.
    case sha256 = 0x0002
}

/// The key an HMAC is computed with.
///
/// Short-term credentials use the password itself; long-term credentials use a hash of
/// `username ":" realm ":" password` (RFC 8489 §9.2.2). The key is what a server stores, never the password.
public struct STUNIntegrityKey: Hashable, Sendable {
    /// The raw key bytes.
    public var bytes: [UInt8]

    /// Wraps key bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The short-term key: the password's UTF-8 bytes (RFC 8489 §9.1.1; OpaqueString is the caller's concern).
    public static func shortTerm(password: String) -> STUNIntegrityKey {
        STUNIntegrityKey(bytes: Array(password.utf8))
    }

    /// The long-term key for `algorithm` (RFC 8489 §9.2.2).
    public static func longTerm(
        username: String, realm: String, password: String, algorithm: STUNPasswordAlgorithm = .md5
    ) -> STUNIntegrityKey {
        let input = Array("\(username):\(realm):\(password)".utf8)
        switch algorithm {
        case .md5: return STUNIntegrityKey(bytes: Array(Insecure.MD5.hash(data: input)))
        case .sha256: return STUNIntegrityKey(bytes: Array(SHA256.hash(data: input)))
        }
    }
}

/// HMAC computations over a message prefix, with the header length adjusted as RFC 8489 §14.5/§14.6 require.
public enum STUNIntegrity {
    /// HMAC-SHA1 of `message` up to the attribute at `offset`, as if that MESSAGE-INTEGRITY were the last attribute.
    public static func sha1(of message: ByteBuffer, upTo offset: Int, key: [UInt8]) -> [UInt8] {
        var hmac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: key))
        feed(&hmac, message: message, upTo: offset, attributeSize: 24)
        return Array(hmac.finalize())
    }

    /// HMAC-SHA256 of `message` up to the attribute at `offset`, as if a 32-byte MESSAGE-INTEGRITY-SHA256 at
    /// `offset` were the last attribute (the stored length is used when verifying).
    public static func sha256(of message: ByteBuffer, upTo offset: Int, key: [UInt8]) -> [UInt8] {
        let stored = message.getInteger(at: message.readerIndex + offset + 2, as: UInt16.self)
        let valueLength = stored.map(Int.init) ?? 32
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        feed(&hmac, message: message, upTo: offset, attributeSize: 4 + valueLength)
        return Array(hmac.finalize())
    }

    private static func feed<H: HashFunction>(
        _ hmac: inout HMAC<H>, message: ByteBuffer, upTo offset: Int, attributeSize: Int
    ) {
        let start = message.readerIndex
        var header = message.getBytes(at: start, length: STUNMessage.headerSize) ?? []
        let adjusted = UInt16(truncatingIfNeeded: offset - STUNMessage.headerSize + attributeSize)
        header[2] = UInt8(adjusted >> 8)
        header[3] = UInt8(adjusted & 0xFF)
        header.withUnsafeBytes { hmac.update(data: $0) }
        message.withUnsafeReadableBytes { bytes in
            hmac.update(data: UnsafeRawBufferPointer(rebasing: bytes[STUNMessage.headerSize..<offset]))
        }
    }

    /// Compares two byte arrays in time independent of where they differ.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

extension Userhash {
    /// Computes USERHASH for a username and realm (RFC 8489 §14.4).
    public static func compute(username: String, realm: String) -> Userhash {
        Userhash(Array(SHA256.hash(data: Array("\(username):\(realm)".utf8))))
    }
}
