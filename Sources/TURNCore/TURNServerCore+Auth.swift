import NIOCore
import STUNProtocol

/// A request whose long-term credentials checked out.
struct Authenticated: Sendable {
    var username: String
    var key: STUNIntegrityKey
    var integrityKind: STUNIntegrityKind
    var kind: CredentialKind
}

enum AuthenticationResult {
    case success(Authenticated)
    case failure(TURNOutcome)
}

extension TURNServerCore {
    /// RFC 8489 §9.2.4, long-term credentials, with stateless nonces and the §9.2.4 bid-down check.
    mutating func authenticate(_ request: STUNParsedMessage, from fiveTuple: FiveTuple, now: TURNInstant) -> AuthenticationResult {
        let message = request.message
        guard let integrityKind = request.integrityKind else {
            return .failure(challenge(request, .unauthenticated, from: fiveTuple, now: now))
        }
        let realm = try? message.get(Realm.self)
        let nonce = try? message.get(Nonce.self)
        let username = try? message.get(Username.self)
        let userhash = try? message.get(Userhash.self)
        guard let realm, let nonce, username != nil || userhash != nil else {
            return .failure(.respond(errorResponse(to: request, .badRequest)))
        }
        guard nonces.check(nonce.text, from: fiveTuple.client.ip, now: now.unixSeconds) == .valid else {
            return .failure(challenge(request, .staleNonce, from: fiveTuple, now: now))
        }
        // Bid-down protection: an echoed algorithm list must be ours, and the choice must come from it.
        var algorithm = STUNPasswordAlgorithm.md5
        let offered = try? message.get(PasswordAlgorithms.self)
        let chosen = try? message.get(PasswordAlgorithm.self)
        if offered != nil || chosen != nil {
            guard let offered, let chosen, offered == offeredAlgorithms, offered.entries.contains(chosen.entry),
                let known = STUNPasswordAlgorithm(rawValue: chosen.entry.algorithm)
            else { return .failure(.respond(errorResponse(to: request, .badRequest))) }
            algorithm = known
        }
        guard realm.text == credentials.realm,
            let name = username?.text ?? userhash.flatMap({ credentials.username(forHash: $0.hash) })
        else {
            authenticationFailures &+= 1
            return .failure(challenge(request, .unauthenticated, from: fiveTuple, now: now))
        }
        for candidate in credentials.candidates(username: name) {
            let key = candidate.keys.key(for: algorithm)
            guard request.integrityIsValid(key: key) == true else { continue }
            // TURN REST expiry binds Allocate only, so a long call keeps refreshing (issue #3).
            if case .rest(let expiresAt) = candidate.kind, message.type.method == .allocate, expiresAt < now.unixSeconds {
                authenticationFailures &+= 1
                return .failure(challenge(request, .unauthenticated, from: fiveTuple, now: now))
            }
            return .success(Authenticated(username: name, key: key, integrityKind: integrityKind, kind: candidate.kind))
        }
        // Credentials were offered and are wrong (unknown user, bad password, expired REST credentials): counted,
        // unlike the first 401 every client gets before it knows the nonce.
        authenticationFailures &+= 1
        return .failure(challenge(request, .unauthenticated, from: fiveTuple, now: now))
    }

    /// A 401 or 438 with REALM, a fresh NONCE and PASSWORD-ALGORITHMS, rate-limited per source address (both can be
    /// provoked with a spoofed source, so both could reflect).
    mutating func challenge(
        _ request: STUNParsedMessage, _ code: STUNErrorCode, from fiveTuple: FiveTuple, now: TURNInstant
    ) -> TURNOutcome {
        guard limiter.allow(fiveTuple.client.ip, now: now.uptimeNanoseconds) else { return .ignore }
        let nonce = nonces.issue(for: fiveTuple.client.ip, now: now.unixSeconds)
        let realm = credentials.realm
        let algorithms = offeredAlgorithms
        return .respond(
            errorResponse(to: request, code) { response in
                response.add(Realm(realm))
                response.add(Nonce(nonce))
                response.add(algorithms)
            })
    }
}
