/// Engine.IO server settings (defaults are the reference server's).
public struct EngineIOConfiguration: Sendable {
    /// How often the server pings.
    public var pingInterval: Duration = .milliseconds(25_000)
    /// How long a pong may take before the session is closed.
    public var pingTimeout: Duration = .milliseconds(20_000)
    /// Largest HTTP body (and WebSocket message) accepted; also the `maxPayload` announced to clients.
    public var maxPayload = 1_000_000
    /// How long a polling → WebSocket upgrade may take after its probe.
    public var upgradeTimeout: Duration = .seconds(10)
    /// Packets queued for one client before it is closed as a slow consumer (it stopped polling or reading).
    /// Binary attachments ride with their packet and do not count.
    public var maximumQueuedPackets = 1024
    /// Binary attachments one packet may carry (socket.io-parser's limit).
    public var maximumAttachments = 10
    /// Origins allowed to make cross-origin requests (`*` for any); none by default.
    public var corsOrigins: [String] = []

    public init() {}
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
