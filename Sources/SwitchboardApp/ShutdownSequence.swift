import Logging
import Signaling
import Synchronization
import TURNServer

/// What the first SIGTERM sets off, before the services stop: readiness turns false, new joins and allocations are
/// refused, signaling clients are told to reconnect (to another node), and live calls get the drain period to
/// move. Then the caller stops the services, TURN allocations last.
public final class ShutdownSequence: Sendable {
    private struct Parts: Sendable {
        var hub: SignalingHub
        var turn: TURNServer?
        var readiness: Readiness
    }

    /// The longest the drain waits for clients to leave.
    public let drainPeriod: Duration
    private let parts = Mutex<Parts?>(nil)

    /// A sequence with `drainPeriod` for live calls.
    public init(drainPeriod: Duration) {
        self.drainPeriod = drainPeriod
    }

    func attach(hub: SignalingHub, turn: TURNServer?, readiness: Readiness) {
        parts.withLock { $0 = Parts(hub: hub, turn: turn, readiness: readiness) }
    }

    /// Runs the drain; returns when every client and allocation is gone or the drain period is over.
    public func drain(logger: Logger) async {
        guard let parts = parts.withLock({ $0 }) else { return }
        let seconds = Int(drainPeriod.components.seconds)
        logger.notice("draining", metadata: ["drain.period": "\(seconds)s"])
        parts.readiness.beginDraining()
        await parts.hub.drain(within: seconds)
        await parts.turn?.drain()
        let deadline = ContinuousClock.now + drainPeriod
        while ContinuousClock.now < deadline && !Task.isCancelled {
            let connections = await parts.hub.connectionCount
            let allocations = await parts.turn?.allocationCount() ?? 0
            if connections == 0 && allocations == 0 {
                logger.notice("drained: no clients left")
                return
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        let left = await parts.hub.connectionCount
        logger.notice("drain period over: closing the connections left", metadata: ["sig.connections": "\(left)"])
        // Closed here, so the HTTP server stops at once rather than waiting on them.
        await parts.hub.closeAllConnections()
    }
}
