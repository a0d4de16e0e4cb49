@_exported import SignalingCore

/// What a `SignalingClient` reports, in order.
public enum SignalingEvent: Sendable, Equatable {
    /// A server message (each sequenced message exactly once, even across a resume).
    case message(ServerMessage)
    /// The connection dropped; the client is reconnecting and will resume its session.
    case disconnected
    /// The client stopped: closed by the app, or unable to reconnect.
    case closed
}

/// Errors from the client SDK.
public enum SignalingClientError: Error, Equatable, Sendable {
    /// The first connection could not be made.
    case connectionFailed(String)
    /// The client was closed.
    case closed
}
