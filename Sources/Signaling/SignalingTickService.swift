import ServiceLifecycle

/// Drives the hub's expiry timers (held messages, grace periods) at a fixed resolution.
public struct SignalingTickService: Service {
    let hub: SignalingHub
    let interval: Duration

    /// Ticks `hub` every `interval` until shutdown.
    public init(hub: SignalingHub, interval: Duration = .milliseconds(250)) {
        self.hub = hub
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            await hub.tick()
        }
    }
}
