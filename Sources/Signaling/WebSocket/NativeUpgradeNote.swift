import NIOCore
import NIOWebSocket
import Synchronization

/// Lets the `/ws` route take over an upgraded connection from the HTTP server's connection task.
///
/// The HTTP channel puts one note in each connection's pipeline, only so the route can find it; it passes every
/// event on, and the HTTP channel removes it once the first request was upgraded or not. When the route accepts a WebSocket upgrade it leaves its adoption in the note; the HTTP channel calls
/// ``adopt(_:)`` on the event loop the moment the upgrade completes, before any frame is passed on, and its task
/// then ends: the connection runs on its channel handlers alone.
public final class NativeUpgradeNote: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    /// Nominal: the note reads nothing.
    public typealias InboundIn = Never

    /// Installs the route's handlers on the upgraded channel; called once, on the channel's event loop.
    public typealias Adoption = @Sendable (NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) throws -> Void

    /// What an accepting route left: how to adopt the channel, and what to let go of however the upgrade ends.
    private struct Acceptance {
        let adoption: Adoption
        let release: @Sendable () -> Void
    }

    // A one-shot hand-off from the route's upgrade decision (a request task) to the event loop.
    private let acceptance = Mutex<Acceptance?>(nil)
    private let adopted = Atomic<Bool>(false)

    public init() {}

    /// The route accepted the upgrade and will serve the connection. `release` runs once the upgrade has happened or
    /// failed (the connection dropped before it completed), so what the route kept for it can be freed either way.
    func accept(release: @escaping @Sendable () -> Void, _ adoption: @escaping Adoption) {
        acceptance.withLock { $0 = Acceptance(adoption: adoption, release: release) }
    }

    /// Hands the upgraded channel to the route that accepted it, if one did; on the channel's event loop.
    public func adopt(_ upgraded: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) {
        guard let acceptance = take() else { return }
        acceptance.release()
        adopted.store(true, ordering: .releasing)
        do {
            try acceptance.adoption(upgraded)
        } catch {
            upgraded.channel.close(promise: nil)
        }
    }

    /// The connection was not upgraded after all: what an accepting route kept for it is let go.
    public func abandon() {
        take()?.release()
    }

    private func take() -> Acceptance? {
        acceptance.withLock { value in
            defer { value = nil }
            return value
        }
    }

    /// Whether a route took the connection over (the upgrading task has nothing left to do).
    public var wasAdopted: Bool { adopted.load(ordering: .acquiring) }
}
