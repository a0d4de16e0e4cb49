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

    // A one-shot hand-off from the route's upgrade decision (a request task) to the event loop.
    private let adoption = Mutex<Adoption?>(nil)
    private let adopted = Atomic<Bool>(false)

    public init() {}

    /// The route accepted the upgrade and will serve the connection.
    func accept(_ adoption: @escaping Adoption) {
        self.adoption.withLock { $0 = adoption }
    }

    /// Hands the upgraded channel to the route that accepted it, if one did; on the channel's event loop.
    public func adopt(_ upgraded: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) {
        let adoption = adoption.withLock { value in
            defer { value = nil }
            return value
        }
        guard let adoption else { return }
        adopted.store(true, ordering: .releasing)
        do {
            try adoption(upgraded)
        } catch {
            upgraded.channel.close(promise: nil)
        }
    }

    /// Whether a route took the connection over (the upgrading task has nothing left to do).
    public var wasAdopted: Bool { adopted.load(ordering: .acquiring) }
}
