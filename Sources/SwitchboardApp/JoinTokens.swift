import Foundation
import JWTKit
import SignalingCore

/// The claims of a join token, as an application backend signs them (JWT, HS256).
public struct JoinClaims: JWTPayload, Equatable {
    /// The room the holder may join.
    public var room: String
    /// The holder's identity in the application; a second session with it evicts the first.
    public var sub: SubjectClaim
    /// The display name shown to the other members (wins over the client's).
    public var name: String?
    /// When the token stops admitting joins (required).
    public var exp: ExpirationClaim
    /// When it starts to (optional).
    public var nbf: NotBeforeClaim?
    /// Whether the holder may publish media (default true): passed to its peers as `publish: false`.
    public var publish: Bool?

    /// Creates claims.
    public init(room: String, identity: String, name: String?, expires: Date, publish: Bool? = nil) {
        self.room = room
        self.sub = SubjectClaim(value: identity)
        self.name = name
        self.exp = ExpirationClaim(value: expires)
        self.publish = publish
    }

    /// Times are checked by ``JoinTokens`` so expiry gets its own error code.
    public func verify(using _: some JWTAlgorithm) throws {}
}

/// Signs and verifies join tokens with the `--join-secret`s (several, so a secret can be rotated: tokens signed
/// with any of them verify; new ones are signed with the first).
public struct JoinTokens: Sendable {
    private let keys: JWTKeyCollection

    /// The shortest secret accepted: HS256 with less than 256 bits of key is guessable offline.
    public static let minimumSecretLength = 32

    /// Loads the secrets; the first signs.
    public init(secrets: [String]) async {
        let keys = JWTKeyCollection()
        for (index, secret) in secrets.enumerated() {
            // The first is the default key (tokens without `kid`); the others are tried in turn when verifying.
            await keys.add(
                hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: index == 0 ? nil : JWKIdentifier(string: "k\(index)"))
        }
        self.keys = keys
    }

    /// A token for `identity` to join `room` for `ttl` seconds.
    public func mint(room: String, identity: String, name: String?, ttl: TimeInterval, publish: Bool?, now: Date = Date())
        async throws -> String
    {
        try await keys.sign(JoinClaims(room: room, identity: identity, name: name, expires: now + ttl, publish: publish))
    }

    /// Verifies `token` for a join of `room`; the error says precisely why it does not admit.
    public func verify(_ token: String, room: RoomName, now: Date = Date()) async -> Result<JoinClaims, SignalingError> {
        let claims: JoinClaims
        do {
            claims = try await keys.verify(token, as: JoinClaims.self, iteratingKeys: true)
        } catch {
            return .failure(SignalingError(.invalidToken, "the join token is malformed or its signature does not verify"))
        }
        if claims.exp.value <= now { return .failure(SignalingError(.tokenExpired, "the join token has expired")) }
        if let notBefore = claims.nbf?.value, notBefore > now {
            return .failure(SignalingError(.tokenExpired, "the join token is not valid yet"))
        }
        guard claims.room == room.rawValue else {
            return .failure(SignalingError(.tokenWrongRoom, "the join token is for another room"))
        }
        guard !claims.sub.value.isEmpty, claims.sub.value.utf8.count <= 256, !Self.hasControlCharacters(claims.sub.value) else {
            return .failure(SignalingError(.invalidToken, "the join token's identity (sub) must be 1-256 bytes without control characters"))
        }
        if let name = claims.name {
            // The same rule as a client's own name: it reaches peers, logs and records.
            guard name.count <= ClientRequest.maximumNameLength, !Self.hasControlCharacters(name) else {
                return .failure(
                    SignalingError(
                        .invalidToken,
                        "the join token's name must be at most \(ClientRequest.maximumNameLength) characters without control characters"))
            }
        }
        return .success(claims)
    }

    private static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
