import ConnectionGuards
import Logging
import NIOCore
import NIOSSL
import STUNProtocol
import TURNCore

/// Everything the STUN/TURN service needs to start.
public struct TURNServerSettings: Sendable {
    /// The address the UDP, TCP and TLS listeners bind to.
    public var host: String
    /// The UDP and TCP port; 0 picks a free one (tests). The command line maps `--turn-port 0` to "off" instead.
    public var port: Int
    /// The TLS port, when `tls` is set; 0 picks a free one.
    public var tlsPort: Int
    /// The certificate of the TLS listener; `nil` means no TLS listener.
    public var tls: TLSContextSource?
    /// The core's settings (realm, relay addresses, lifetimes, quotas, policy).
    public var core: TURNConfiguration
    /// Static users and REST secrets.
    public var credentials: TURNCredentials
    /// Relay port range.
    public var relayPorts: ClosedRange<UInt16>
    /// The nonce MAC secret (random per process unless set, for clusters).
    public var nonceSecret: [UInt8]
    /// Seconds a nonce stays fresh.
    public var nonceLifetime: Int
    /// How many UDP relay threads (each with its own `SO_REUSEPORT` listener) and NIO event loops (for TCP and TLS
    /// clients) serve TURN.
    public var eventLoopCount: Int
    /// Deadlines and the per-address limit of the TCP and TLS listeners; `nil` applies none.
    public var connectionGuard: ConnectionGuard?

    /// Creates settings.
    public init(
        host: String, port: Int, tlsPort: Int = 0, tls: TLSContextSource? = nil, core: TURNConfiguration,
        credentials: TURNCredentials, relayPorts: ClosedRange<UInt16> = 49152...65535, nonceSecret: [UInt8]? = nil,
        nonceLifetime: Int = 600, eventLoopCount: Int = System.coreCount
    ) {
        self.host = host
        self.port = port
        self.tlsPort = tlsPort
        self.tls = tls
        self.core = core
        self.credentials = credentials
        self.relayPorts = relayPorts
        var generator = SystemRandomNumberGenerator()
        self.nonceSecret = nonceSecret ?? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        self.nonceLifetime = nonceLifetime
        self.eventLoopCount = max(1, eventLoopCount)
    }
}

/// Where the listeners ended up.
public struct TURNListeningAddresses: Sendable, Hashable {
    /// The UDP and TCP port.
    public var port: Int
    /// The TLS port, if a TLS listener runs.
    public var tlsPort: Int?
}
