import Cluster
import ConnectionGuards
import Logging
import Signaling
import SignalingCore
import TURNServer

/// Everything `switchboard serve` can be told. Defaults are the embedded, no-other-service setup.
public struct SwitchboardConfiguration: Sendable {
    /// Address the HTTP/WebSocket listener binds.
    public var host = "0.0.0.0"
    /// HTTP/WebSocket port; 0 picks a free one (tests).
    public var httpPort = 8080
    /// Cluster membership (`serve` sets it when the database is PostgreSQL); `nil` runs a single node.
    public var cluster: ClusterConfiguration? = nil
    /// Where the server keeps its files.
    public var dataDirectory = "./switchboard-data"
    /// Minimum level logged.
    public var logLevel: Logger.Level = .info
    /// Room limits and timings.
    public var signaling = SignalingConfiguration()
    /// Largest accepted signaling message, in bytes, checked before parsing.
    public var maxMessageBytes = 65_536
    /// Unsent messages a connection may have queued before it is closed as a slow consumer.
    public var outboundQueueLimit = 256
    /// Interval between WebSocket pings; a connection silent for two intervals is dead.
    public var heartbeatInterval: Duration = .seconds(10)
    /// How long a WebSocket peer has to answer the server's close frame before the connection is dropped; what was
    /// still queued for it then is discarded.
    public var webSocketCloseTimeout: Duration = .seconds(5)
    /// Handshake and idle deadlines and the per-address connection limit of every TCP listener.
    public var connectionGuards = ConnectionGuardSettings()

    /// Engine.IO settings of the Socket.IO endpoint at `/socket.io/` (heartbeat, payload limit, CORS).
    public var engineIO = EngineIOConfiguration()
    /// How long a Socket.IO client may take to join a namespace after its Engine.IO handshake.
    public var socketIOConnectTimeout: Duration = .seconds(45)
    /// Socket.IO signaling: capacity of rooms its joins create, and the codelab's `log` events.
    public var socketIOSignaling = SocketIOSignalingNamespace.Settings()

    /// The STUN/TURN service; `nil` runs signaling only.
    public var turn: TURNServerSettings? = nil

    /// What `/api/ice-servers` hands out; its ports come from `turn`.
    public var ice = ICEServerConfiguration()

    /// Secrets that sign join tokens (`--join-secret`); when any is set, every join needs a valid token.
    public var joinSecrets: [String] = []
    /// Origins besides this server's own that may open WebSockets (`--allowed-origin`), or `*`.
    public var allowedOrigins: [String] = []

    /// The certificate and key of every TLS listener (HTTPS/WSS, TURN over TLS); `nil` runs no TLS listener.
    public var tls: TLSFiles? = nil
    /// HTTPS and WSS port when `tls` is set; 0 picks a free one (tests).
    public var httpsPort = 8443

    /// The bearer token of `/api/admin/` (`--admin-token`); `nil` turns the admin API off.
    public var adminToken: String? = nil
    /// The realm of stored TURN users when TURN itself is off (the admin API still manages them).
    public var realm = "switchboard"

    /// The browser client's folder (holding `index.html`); `nil` serves no client.
    public var publicDirectory: String? = nil

    /// The defaults.
    public init() {}

    /// The largest WebSocket frame the server accepts: NIO refuses larger ones outright (close 1009), while
    /// smaller oversize `/ws` messages get the clearer JSON `frame_too_large` first.
    public static func webSocketFrameLimit(maxMessageBytes: Int) -> Int {
        max(maxMessageBytes * 4, 1 << 16)
    }
}

/// A PEM certificate chain and its private key, reloaded when they change.
public struct TLSFiles: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// A configuration that cannot run: said at start-up, with what to change.
public struct SwitchboardConfigurationError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
