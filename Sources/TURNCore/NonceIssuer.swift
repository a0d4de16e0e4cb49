import Crypto
import STUNProtocol

/// Issues and checks stateless nonces: the server keeps nothing per client before authentication.
///
/// A nonce is `obMatJos2` + the security-feature set (RFC 8489 §9.2) + the issue time + a MAC over the issue time
/// and the client's IP address. It is accepted from that IP until `lifetime` seconds after issue; a nonce from
/// another node sharing the secret is accepted too.
public struct NonceIssuer: Sendable {
    /// RFC 8489 §9.2's nonce cookie.
    public static let cookie = "obMatJos2"
    /// Features offered: password algorithms and username anonymity (both bits set, so either reading of
    /// erratum 6290's bit order finds both).
    public static let features = "AAAD"

    private let key: SymmetricKey
    /// Seconds a nonce stays fresh.
    public let lifetime: Int64

    /// Creates an issuer with a secret (random per process unless configured, for clusters).
    public init(secret: [UInt8], lifetime: Int64) {
        key = SymmetricKey(data: secret)
        self.lifetime = lifetime
    }

    /// A nonce for `client` issued at `now` (Unix seconds).
    public func issue(for client: IPAddress, now: Int64) -> String {
        let time = String(UInt64(max(0, now)), radix: 16)
        let padded = String(repeating: "0", count: max(0, 10 - time.count)) + time
        return Self.cookie + Self.features + padded + mac(time: padded, client: client)
    }

    /// What a nonce's check found.
    public enum Verdict: Hashable, Sendable {
        /// Fresh and made for this client.
        case valid
        /// Expired, malformed, forged or made for another address: answer 438 with a new nonce.
        case stale
    }

    /// Checks a nonce received from `client` at `now`.
    public func check(_ nonce: String, from client: IPAddress, now: Int64) -> Verdict {
        let prefix = Self.cookie + Self.features
        guard nonce.hasPrefix(prefix) else { return .stale }
        let body = nonce.dropFirst(prefix.count)
        guard body.count > 10 else { return .stale }
        let time = String(body.prefix(10))
        guard let issued = UInt64(time, radix: 16), Int64(issued) <= now, now - Int64(issued) < lifetime else {
            return .stale
        }
        let expected = mac(time: time, client: client)
        return STUNIntegrity.constantTimeEqual(Array(body.dropFirst(10).utf8), Array(expected.utf8)) ? .valid : .stale
    }

    private func mac(time: String, client: IPAddress) -> String {
        var input = Array(time.utf8)
        input += client.unmapped.bytes
        let code = HMAC<SHA256>.authenticationCode(for: input, using: key)
        // 12 bytes of MAC as 24 hex digits: ample against forgery within a nonce lifetime.
        return code.prefix(12).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
