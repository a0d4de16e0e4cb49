import Foundation

/// Unguessable identifiers from the system CSPRNG (`getrandom` on Linux), base64url without padding.
public enum SecureIdentifiers {
    /// 128 bits: a session id.
    static func sessionID() -> String { randomBase64URL(byteCount: 16) }

    /// 256 bits: a resume token.
    static func resumeToken() -> String { randomBase64URL(byteCount: 32) }

    /// `byteCount` random bytes as base64url text.
    public static func randomBase64URL(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        // RFC 4648 §5: the URL- and filename-safe alphabet, no padding.
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
