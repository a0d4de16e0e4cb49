import Foundation
import Hummingbird
import NIOCore
import Signaling
import TURNCore
import TURNServer

/// `GET /api/ice-servers` (the `iceServers` a browser passes to `RTCPeerConnection`) and `GET /api/turn` (the
/// TURN REST API draft's answer), both with freshly minted TURN REST credentials.
struct ICEServerRoutes: Sendable {
    let configuration: ICEServerConfiguration
    /// Where TURN really listens once it runs (the configured ports may be 0 in tests).
    let listening: @Sendable () -> TURNListeningAddresses?
    /// Credentials per client address (the join rate: one page load is one join).
    let limiter: AddressRateLimiter

    func register(on router: Router<SignalingRequestContext>) {
        router.get("/api/ice-servers") { request, context in
            try limited(context) { try self.iceServers(request: request, context: context) }
        }
        router.get("/api/turn") { request, context in
            try limited(context) { try self.turnREST(request: request, context: context) }
        }
    }

    private func limited(_ context: SignalingRequestContext, _ answer: () throws -> Response) throws -> Response {
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        guard limiter.allow(address) else {
            return try jsonResponse(
                APIError(code: "rate_limited", message: "too many credential requests from this address; retry shortly"),
                status: .tooManyRequests)
        }
        return try answer()
    }

    private func iceServers(request: Request, context: SignalingRequestContext) throws -> Response {
        let current = effectiveConfiguration()
        let host = uriHost(request: request, context: context, configuration: current)
        var answer = ICEServersAnswer(iceServers: [], ttl: nil, expires: nil, turn: .init(enabled: false, reason: nil))
        let stun = current.stunURIs(host: host)
        if !stun.isEmpty { answer.iceServers.append(.init(urls: stun)) }
        if let reason = current.turnUnavailableReason {
            answer.turn.reason = reason
        } else if let secret = current.secret {
            let credentials = mint(secret: secret, user: randomUser(), ttl: current.credentialTTL)
            answer.iceServers.append(
                .init(urls: current.turnURIs(host: host), username: credentials.username, credential: credentials.password))
            answer.ttl = current.credentialTTL
            answer.expires = credentials.expires
            answer.turn.enabled = true
        }
        return try jsonResponse(answer)
    }

    private func turnREST(request: Request, context: SignalingRequestContext) throws -> Response {
        let query = request.uri.queryParameters
        guard query.get("service") == "turn" else {
            return try jsonResponse(
                APIError(code: "unsupported_service", message: "service must be 'turn' (GET /api/turn?service=turn&username=NAME)"),
                status: .badRequest)
        }
        var user = randomUser()
        if let given = query.get("username") {
            guard Self.isAcceptableUser(given) else {
                return try jsonResponse(
                    APIError(code: "invalid_username", message: "username must be 1-128 printable characters"),
                    status: .badRequest)
            }
            user = given
        }
        let current = effectiveConfiguration()
        let host = uriHost(request: request, context: context, configuration: current)
        guard current.turnUnavailableReason == nil, let secret = current.secret else {
            return try jsonResponse(
                TURNRESTAnswer(uris: current.stunURIs(host: host), reason: current.turnUnavailableReason))
        }
        let credentials = mint(secret: secret, user: user, ttl: current.credentialTTL)
        return try jsonResponse(
            TURNRESTAnswer(
                username: credentials.username, password: credentials.password, ttl: current.credentialTTL,
                uris: current.turnURIs(host: host)))
    }

    /// The configuration with the ports TURN really bound.
    private func effectiveConfiguration() -> ICEServerConfiguration {
        var current = configuration
        if current.port != nil, let bound = listening() {
            current.port = bound.port
            current.tlsPort = bound.tlsPort
        }
        return current
    }

    /// The configured host, else the `Host` the client used, else the address it connected to.
    private func uriHost(request: Request, context: SignalingRequestContext, configuration: ICEServerConfiguration) -> String {
        if let host = configuration.host { return host }
        if let authority = request.head.authority, let host = iceURIHost(fromAuthority: authority) { return host }
        switch context.localAddress {
        case .v6(let address)?: return "[\(address.host)]"
        case let address?: return address.ipAddress ?? "127.0.0.1"
        case nil: return "127.0.0.1"
        }
    }

    private func mint(secret: String, user: String, ttl: Int) -> (username: String, password: String, expires: Int64) {
        let now = Int64(Date().timeIntervalSince1970)
        let minted = TURNCredentials.mintREST(secret: secret, user: user, ttl: Int64(ttl), now: now)
        return (minted.username, minted.password, now + Int64(ttl))
    }

    /// A user part for credentials nobody asked a name for: unguessable, so two clients never share one.
    private func randomUser() -> String { SecureIdentifiers.randomBase64URL(byteCount: 9) }

    static func isAcceptableUser(_ user: String) -> Bool {
        !user.isEmpty && user.utf8.count <= 128 && user.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}

/// The body of `GET /api/ice-servers`.
struct ICEServersAnswer: Encodable {
    struct Server: Encodable {
        var urls: [String]
        var username: String? = nil
        var credential: String? = nil
    }
    struct TURNStatus: Encodable {
        var enabled: Bool
        var reason: String?
    }
    var iceServers: [Server]
    var ttl: Int?
    var expires: Int64?
    var turn: TURNStatus
}

/// The body of `GET /api/turn` (draft-uberti-behave-turn-rest-00 §2.2), plus `reason` when TURN is missing.
struct TURNRESTAnswer: Encodable {
    var username: String? = nil
    var password: String? = nil
    var ttl: Int? = nil
    var uris: [String]
    var reason: String? = nil
}

/// A JSON API error: a stable code and a message for humans.
struct APIError: Encodable {
    var code: String
    var message: String
}

/// A JSON response that no cache may keep: these carry credentials.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    var headers = HTTPFields()
    headers[.contentType] = "application/json; charset=utf-8"
    headers[.cacheControl] = "no-store"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
