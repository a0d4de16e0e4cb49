import SignalingCore

/// Where the hub puts what one connection is to receive; each transport supplies one.
///
/// The hub calls it on its own executor, in the order the room core decided, so an implementation keeps that
/// order. A sink bounds what waits unwritten and reports a slow consumer by returning `false`.
protocol ConnectionSink: AnyObject, Sendable {
    /// Queues or writes a message. `false` when this overflowed the connection's bound (a slow consumer).
    func send(_ message: OutboundMessage) -> Bool
    /// A resumed session's missed messages, in order. `false` as for ``send(_:)``.
    func replay(_ messages: [OutboundMessage]) -> Bool
    /// A request whose sender waits for an acknowledgement was handled (Socket.IO acks). `false` as for ``send(_:)``.
    func acknowledge(_ acknowledgement: Outbox.Acknowledgement) -> Bool
    /// Closes the connection after what was sent before, with `error`'s code when it is fatal.
    func close(_ error: SignalingError?)
    /// The connection is gone: drop anything unsent.
    func finish()
    /// A request from this connection made the hub close it (it broke a limit): the session ends at once.
    func closedByOwnRequest()
}
