import Hummingbird
import NIOCore
import ServiceLifecycle
import Storage
import Synchronization

/// `/readyz`: whether this node should be sent new clients. Not ready once shutdown has begun (a load balancer
/// then stops routing here while live calls drain) or while the database does not answer.
final class Readiness: Service {
    private let draining = Mutex(false)
    private let store: (any Store)?

    init(store: (any Store)?) {
        self.store = store
    }

    /// Waits for graceful shutdown, then reports not ready.
    func run() async throws {
        try? await gracefulShutdown()
        beginDraining()
    }

    /// From now on the node reports not ready.
    func beginDraining() {
        draining.withLock { $0 = true }
    }

    /// Why the node is not ready, or `nil` when it is.
    func problem() async -> String? {
        if draining.withLock({ $0 }) { return "draining" }
        if let store {
            do {
                _ = try await store.schemaVersion()
            } catch {
                return "database unavailable"
            }
        }
        return nil
    }

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/readyz") { _, _ in
            let problem = await self.problem()
            return Response(
                status: problem == nil ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: (problem ?? "ready") + "\n")))
        }
    }
}
