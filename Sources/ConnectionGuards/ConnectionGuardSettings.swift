/// Limits every TCP listener (HTTP, HTTPS, TURN over TCP and TLS) applies to its connections, so idle or half-sent
/// connections cannot exhaust the process's file descriptors.
public struct ConnectionGuardSettings: Sendable, Equatable {
    /// Time from accept to the TLS handshake done and the first request complete (HTTP request head, STUN message
    /// or ChannelData frame). Covers partial TLS ClientHellos, slow request lines and stalled frames.
    public var handshakeTimeout: Duration = .seconds(10)
    /// HTTP: time a kept-alive connection may wait for its next request head.
    public var httpIdleTimeout: Duration = .seconds(60)
    /// TURN over TCP or TLS: time a connection holding no allocation may go without a complete message.
    public var turnIdleTimeout: Duration = .seconds(60)
    /// Open connections one client IP address may hold across all TCP listeners; `nil` for no limit (behind a
    /// reverse proxy every connection comes from the proxy).
    public var maximumPerAddress: Int? = 1_000

    /// The defaults.
    public init() {}
}

/// Which listener a connection came to, for metrics.
public enum GuardedListener: String, Sendable, CaseIterable {
    case http, https
    case turnTCP = "turn-tcp"
    case turnTLS = "turn-tls"
}

/// Why a guard closed or refused a connection.
public enum GuardedCloseReason: String, Sendable, CaseIterable {
    /// The TLS handshake or first request did not complete within ``ConnectionGuardSettings/handshakeTimeout``.
    case handshakeTimeout = "handshake_timeout"
    /// Idle past ``ConnectionGuardSettings/httpIdleTimeout`` or ``ConnectionGuardSettings/turnIdleTimeout``.
    case idleTimeout = "idle_timeout"
    /// Its address already held ``ConnectionGuardSettings/maximumPerAddress`` connections.
    case addressLimit = "address_limit"
    /// A WebSocket client broke a framing rule of RFC 6455 (closed with status 1002).
    case protocolError = "protocol_error"
}
