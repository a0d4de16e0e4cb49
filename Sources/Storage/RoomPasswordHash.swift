import Crypto
import Foundation
import _CryptoExtras

/// Room passwords as stored: scrypt, with its parameters and salt in the string so they can be raised later
/// (`scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`).
public enum RoomPasswordHash {
    /// log2 of scrypt's N: 2^15 × r 8 is 32 MiB and some tens of milliseconds per hash, so a stolen database
    /// cannot be searched quickly, while joins stay rate limited per address.
    static let logN = 15
    static let blockSize = 8
    static let parallelism = 1

    /// Hashes a password with a fresh random salt.
    public static func make(_ password: String) throws -> String {
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let hash = try derive(password, salt: salt, logN: logN, blockSize: blockSize, parallelism: parallelism)
        return ["scrypt", "\(logN)", "\(blockSize)", "\(parallelism)", salt.base64EncodedString(), hash.base64EncodedString()]
            .joined(separator: "$")
    }

    /// Whether `password` matches `stored`; `false` for a malformed stored string.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), (10...20).contains(logN),
            let blockSize = Int(parts[2]), (1...32).contains(blockSize), let parallelism = Int(parts[3]),
            (1...16).contains(parallelism), let salt = Data(base64Encoded: String(parts[4])),
            let expected = Data(base64Encoded: String(parts[5])),
            let actual = try? derive(password, salt: salt, logN: logN, blockSize: blockSize, parallelism: parallelism)
        else { return false }
        // Constant time, so the comparison leaks nothing about the stored hash.
        guard actual.count == expected.count else { return false }
        return zip(actual, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func derive(_ password: String, salt: Data, logN: Int, blockSize: Int, parallelism: Int) throws -> Data {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: 1 << logN, blockSize: blockSize,
            parallelism: parallelism)
        return key.withUnsafeBytes { Data($0) }
    }
}
