import ServiceLifecycle

/// Drives the hub's expiry timers (held messages, grace periods) at a fixed resolution, and runs the work its
/// connection handlers hand off (``SignalingEdgeWork``).
public struct SignalingTickService: Service {
    let hub: SignalingHub
    let interval: Duration

    /// Ticks `hub` every `interval` until shutdown.
    public init(hub: SignalingHub, interval: Duration = .milliseconds(250)) {
        self.hub = hub
        self.interval = interval
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await hub.edgeWork.run() }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    break
                }
                await hub.tick()
            }
            hub.edgeWork.finish()
        }
    }
}
