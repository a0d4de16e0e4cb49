import NIOCore

/// A countdown that closes a channel unless stopped first, counted under a reason. Lives on the channel's event
/// loop, inside a handler.
public struct ConnectionDeadline {
    private let guardian: ConnectionGuard
    private let listener: GuardedListener
    private var pending: Scheduled<Void>?

    /// A stopped countdown for connections of `listener`.
    public init(guard guardian: ConnectionGuard, listener: GuardedListener) {
        self.guardian = guardian
        self.listener = listener
    }

    /// Starts (or restarts) the countdown: when `timeout` passes first, `channel` is closed and counted under
    /// `reason`.
    public mutating func arm(_ timeout: Duration, reason: GuardedCloseReason, channel: any Channel) {
        pending?.cancel()
        let (guardian, listener) = (self.guardian, self.listener)
        pending = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            guardian.count(reason, on: listener)
            channel.close(promise: nil)
        }
    }

    /// Stops the countdown: the phase completed in time.
    public mutating func disarm() {
        pending?.cancel()
        pending = nil
    }
}
