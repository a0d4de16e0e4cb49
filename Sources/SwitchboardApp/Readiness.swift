import Cluster
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
    private let cluster: PostgresCluster?

    init(store: (any Store)?, cluster: PostgresCluster? = nil) {
        self.store = store
        self.cluster = cluster
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
        if let cluster, !cluster.status().connected { return "cluster directory unavailable" }
        if let store {
            do {
                // Bounded: a database that stopped answering would otherwise hold the probe until it times out.
                _ = try await withDeadline(.seconds(2)) { try await store.schemaVersion() }
            } catch {
                return "database unavailable"
            }
        }
        return nil
    }

    /// Which node this is and how many others are alive, for the body of `/readyz`.
    func clusterLine() -> String? {
        guard let cluster else { return nil }
        let peers = cluster.status().peers.values.sorted()
        let line = "node \(cluster.settings.nodeName) (\(cluster.node)): \(peers.count) peer(s) alive"
        return peers.isEmpty ? line : line + ": " + peers.joined(separator: ", ")
    }

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/readyz") { _, _ in
            let problem = await self.problem()
            return Response(
                status: problem == nil ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: ([problem ?? "ready"] + [self.clusterLine()].compactMap { $0 }).joined(separator: "\n") + "\n")))
        }
    }
}
