import SignalingCore

/// How a signaling client is connected.
public enum SignalingTransport: String, Sendable, CaseIterable {
    /// The native JSON protocol on `/ws`.
    case websocket
    /// Socket.IO on `/socket.io/`, over polling or WebSocket.
    case socketIO = "socketio"
    /// Server-sent events on `/events` with `POST /send`.
    case sse
}

/// What the hub reports to the rest of the server (call records, metrics). Called on the hub's actor, so a
/// handler must only hand the value on and return.
public struct SignalingEvents: Sendable {
    /// A session entered or left a room; entries carry the transport of the connection that joined.
    public var membershipChanged: (@Sendable (MembershipChange, SignalingTransport) -> Void)?

    /// Creates event handlers; none by default.
    public init(membershipChanged: (@Sendable (MembershipChange, SignalingTransport) -> Void)? = nil) {
        self.membershipChanged = membershipChanged
    }
}
