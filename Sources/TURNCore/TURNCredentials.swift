import Crypto
import STUNProtocol

/// The long-term keys of one user: what the server keeps instead of the password.
public struct LongTermKeys: Hashable, Sendable {
    /// MD5(username:realm:password), for MESSAGE-INTEGRITY and the MD5 password algorithm.
    public var md5: STUNIntegrityKey
    /// SHA-256(username:realm:password), for the SHA-256 password algorithm (RFC 8489 §18.5.1.2).
    public var sha256: STUNIntegrityKey

    /// Derives both keys; the password is not kept.
    public init(username: String, realm: String, password: String) {
        md5 = .longTerm(username: username, realm: realm, password: password, algorithm: .md5)
        sha256 = .longTerm(username: username, realm: realm, password: password, algorithm: .sha256)
    }

    /// Wraps stored keys.
    public init(md5: STUNIntegrityKey, sha256: STUNIntegrityKey) {
        self.md5 = md5
        self.sha256 = sha256
    }

    /// The key for an algorithm.
    public func key(for algorithm: STUNPasswordAlgorithm) -> STUNIntegrityKey {
        algorithm == .md5 ? md5 : sha256
    }
}

/// Where a user's credentials came from.
public enum CredentialKind: Hashable, Sendable {
    /// A configured user (`--turn-user`) or a stored one (`switchboard user add`).
    case staticUser
    /// TURN REST credentials, valid until this Unix time.
    case rest(expiresAt: Int64)
}

/// One way a username could be authenticated: its keys and where they came from.
public struct CredentialCandidate: Hashable, Sendable {
    /// The username as it will be recorded against the allocation.
    public var username: String
    /// The keys to try.
    public var keys: LongTermKeys
    /// Static or REST.
    public var kind: CredentialKind
}

/// Users kept outside the process (the database), looked up on each authentication.
public protocol TURNUserDirectory: Sendable {
    /// The keys of `username` in the credentials' realm, if it exists.
    func keys(username: String) -> LongTermKeys?
    /// The user a USERHASH names.
    func username(forHash hash: [UInt8]) -> String?
}

/// Looks up credentials by username (or USERHASH): static users, stored users, then TURN REST shared secrets.
///
/// TURN REST (draft-uberti-behave-turn-rest): the username is `expiry-unix-time:user` and the password is
/// `base64(HMAC-SHA1(secret, username))`. Several secrets may be configured so they can be rotated.
public struct TURNCredentials: Sendable {
    /// The realm every key is derived with.
    public let realm: String
    private var users: [String: LongTermKeys] = [:]
    private var usersByHash: [[UInt8]: String] = [:]
    private let secrets: [[UInt8]]
    private var directory: (any TURNUserDirectory)?

    /// Creates the store. `users` maps names to passwords; only their keys are kept. `directory` adds users
    /// that may change while the server runs.
    public init(
        realm: String, users: [(username: String, password: String)] = [], secrets: [String] = [],
        directory: (any TURNUserDirectory)? = nil
    ) {
        self.realm = realm
        self.secrets = secrets.map { Array($0.utf8) }
        self.directory = directory
        for user in users {
            self.users[user.username] = LongTermKeys(username: user.username, realm: realm, password: user.password)
            usersByHash[Userhash.compute(username: user.username, realm: realm).hash] = user.username
        }
    }

    /// Adds users that may change while the server runs (the database's), consulted after the configured ones.
    public mutating func attach(_ directory: any TURNUserDirectory) {
        self.directory = directory
    }

    /// Whether any credential source is configured; without one the server answers every TURN request 401.
    public var isEmpty: Bool { users.isEmpty && secrets.isEmpty && directory == nil }

    /// The candidates for a username, static first, then one per REST secret.
    public func candidates(username: String) -> [CredentialCandidate] {
        var result: [CredentialCandidate] = []
        if let keys = users[username] ?? directory?.keys(username: username) {
            result.append(CredentialCandidate(username: username, keys: keys, kind: .staticUser))
        }
        if !secrets.isEmpty, let expiry = Self.restExpiry(username) {
            for secret in secrets {
                let password = Self.restPassword(secret: secret, username: username)
                let keys = LongTermKeys(username: username, realm: realm, password: password)
                result.append(CredentialCandidate(username: username, keys: keys, kind: .rest(expiresAt: expiry)))
            }
        }
        return result
    }

    /// The static user a USERHASH names (REST users cannot be found by hash: their names are not stored).
    public func username(forHash hash: [UInt8]) -> String? {
        usersByHash[hash] ?? directory?.username(forHash: hash)
    }

    /// The expiry time at the front of a REST username (`1700000000:alice`), or of a bare timestamp.
    public static func restExpiry(_ username: String) -> Int64? {
        let prefix = username.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard !prefix.isEmpty, prefix.count <= 12, prefix.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(prefix)
    }

    /// `base64(HMAC-SHA1(secret, username))`.
    public static func restPassword(secret: some Collection<UInt8>, username: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(username.utf8), using: SymmetricKey(data: Array(secret)))
        return Base64.encode(Array(mac))
    }

    /// Mints REST credentials valid for `ttl` seconds from `now`: what `switchboard credentials` and the
    /// signaling side hand to clients.
    public static func mintREST(secret: String, user: String, ttl: Int64, now: Int64) -> (username: String, password: String) {
        let username = "\(now + ttl):\(user)"
        return (username, restPassword(secret: Array(secret.utf8), username: username))
    }
}
