import Synchronization

/// Bytes signaling clients sent and were sent, on every transport, for `/metrics`: one relaxed atomic add per
/// frame or body, so counting costs the edges no hop and no lock.
public final class SignalingTraffic: Sendable {
    private let inbound = Atomic<UInt64>(0)
    private let outbound = Atomic<UInt64>(0)

    /// Nothing counted yet.
    public init() {}

    /// Bytes received from clients (frames, POST bodies).
    public var bytesIn: UInt64 { inbound.load(ordering: .relaxed) }
    /// Bytes sent to clients (frames, event-stream chunks, polling responses).
    public var bytesOut: UInt64 { outbound.load(ordering: .relaxed) }

    func received(_ count: Int) { inbound.wrappingAdd(UInt64(count), ordering: .relaxed) }
    func sent(_ count: Int) { outbound.wrappingAdd(UInt64(count), ordering: .relaxed) }
}
