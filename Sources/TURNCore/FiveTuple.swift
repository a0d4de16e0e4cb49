import STUNProtocol

/// How a client reaches the server.
public enum TURNTransport: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// UDP.
    case udp
    /// TCP.
    case tcp
    /// TLS over TCP.
    case tls

    /// Streams pad ChannelData to 4 bytes (RFC 8656 §12.5).
    public var isStream: Bool { self != .udp }

    public var description: String {
        switch self {
        case .udp: "udp"
        case .tcp: "tcp"
        case .tls: "tls"
        }
    }
}

/// The client's 5-tuple (RFC 8656 §2): client address, server address and transport. An allocation is keyed by it.
public struct FiveTuple: Hashable, Sendable, CustomStringConvertible {
    /// The client's address as the server sees it.
    public var client: TransportAddress
    /// The server address the client sent to.
    public var server: TransportAddress
    /// The transport.
    public var transport: TURNTransport

    /// Creates a 5-tuple.
    public init(client: TransportAddress, server: TransportAddress, transport: TURNTransport) {
        self.client = client
        self.server = server
        self.transport = transport
    }

    public var description: String { "\(transport) \(client)->\(server)" }
}
