import DequeModule
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Signaling
import SignalingCore
import Storage
import Synchronization

/// This node's membership of a cluster whose nodes share one PostgreSQL database.
///
/// The database holds the room directory (which node serves which member, each room's capacity and password) and
/// carries everything nodes tell each other over one NOTIFY channel, so every node sees every change in the
/// order it was committed. One dedicated connection listens; a pool runs join transactions (one per join, under
/// a per-room advisory lock, so no two nodes admit the last seat), the ordered writer of this node's
/// publications (batched, many events per notification) and the heartbeat that declares silent nodes dead.
public final class PostgresCluster: Service, ClusterLink {
    /// This process's identifier on the bus.
    public let node: NodeID
    /// The settings in force.
    public let settings: ClusterSettings
    let location: PostgresLocation
    /// The pool for transactions and the writer; running for longer than this service (see ``PostgresStore/client``).
    let client: PostgresClient
    let hub: SignalingHub
    let logger: Logger
    /// postgres-nio's own logger: only its errors are worth a line.
    let quietLogger: Logger
    let outbox = Mutex(PublicationQueue())
    let wake: AsyncStream<Void>
    let wakeContinuation: AsyncStream<Void>.Continuation
    let requests: AsyncStream<DirectoryRequest>
    let requestsContinuation: AsyncStream<DirectoryRequest>.Continuation
    /// Parked sessions this node claimed, waiting for their `moved` notice to come back.
    let pendingClaims = Mutex<[SessionID: PendingClaim]>([:])
    /// Resumes waiting for another node to hand their session over, with when they give up.
    let awaitingHandOver = Mutex<[SessionID: (request: ClusterResumeRequest, deadline: ContinuousClock.Instant)]>([:])
    let batcher: Mutex<BusBatcher>
    let view = Mutex(ClusterView())
    let counters = Mutex(ClusterCounters())

    /// A node of the cluster in the database at `location`, feeding `hub`. `client` is a running pool on the same
    /// database; the listening connection is opened apart.
    public init(client: PostgresClient, location: PostgresLocation, hub: SignalingHub, settings: ClusterSettings, logger: Logger) {
        self.client = client
        self.node = NodeID(SecureIdentifiers.randomBase64URL(byteCount: 9))
        self.location = location
        self.hub = hub
        self.settings = settings
        self.logger = logger
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        self.quietLogger = quiet
        batcher = Mutex(BusBatcher(node: node))
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (requests, requestsContinuation) = AsyncStream.makeStream(of: DirectoryRequest.self)
    }

    // MARK: ClusterLink

    public func requestJoin(_ request: ClusterJoinRequest) -> Bool {
        if case .terminated = requestsContinuation.yield(.join(request)) { return false }
        return true
    }

    public func requestResume(_ request: ClusterResumeRequest) -> Bool {
        if case .terminated = requestsContinuation.yield(.resume(request)) { return false }
        return true
    }

    public func publish(_ publication: ClusterPublication) {
        let dropped = outbox.withLock { $0.append(publication, limit: settings.publicationLimit) }
        if dropped {
            logger.warning(
                "cluster publications dropped: the database has been away too long",
                metadata: ["cluster.limit": "\(settings.publicationLimit)"])
        }
        wakeContinuation.yield()
    }

    // MARK: Service

    public func run() async throws {
        logger.info("cluster node starting", metadata: ["cluster.node": "\(node)", "cluster.name": "\(settings.nodeName)"])
        await withDiscardingTaskGroup { group in
            group.addTask { await self.listen() }
            group.addTask { await self.beat() }
            group.addTask { await self.serveRequests() }
            await withGracefulShutdownHandler {
                await self.write()
            } onGracefulShutdown: {
                self.wakeContinuation.finish()
                self.requestsContinuation.finish()
            }
            // Nodes that routed a message here before they saw this node's sessions handed over are answered by
            // forwarding it to the mailbox: keep listening a moment for those, then publish what they caused.
            try? await Task.sleep(for: self.settings.linger)
            await self.flushRemaining()
            await self.deregister()
            group.cancelAll()
        }
    }

    /// The cluster as this node sees it: whether the directory answers, and the other live nodes.
    public func status() -> ClusterView {
        view.withLock { $0 }
    }

    /// Cross-node traffic since start.
    public func statistics() -> ClusterCounters {
        counters.withLock { $0 }
    }
}

/// What a node knows of the cluster, for `/readyz`, metrics and the admin API.
public struct ClusterView: Sendable, Equatable {
    /// Since when the listening connection has been up and synchronised (a node declares others dead only once it
    /// has been connected that long itself); `nil` while it is not.
    var connectedSince: ContinuousClock.Instant?
    /// Whether the listening connection is up and synchronised.
    public var connected: Bool { connectedSince != nil }
    /// The other live nodes, by id, with their names.
    public var peers: [NodeID: String] = [:]
}

/// Cross-node traffic counters.
public struct ClusterCounters: Sendable, Equatable {
    /// Notifications this node published.
    public var notificationsSent: UInt64 = 0
    /// Payload bytes in them.
    public var bytesSent: UInt64 = 0
    /// Notifications read that were for this node.
    public var notificationsReceived: UInt64 = 0
    /// Payload bytes in them.
    public var bytesReceived: UInt64 = 0
    /// Bus payloads dropped as malformed or from unknown nodes.
    public var payloadsRejected: UInt64 = 0
    /// How long this node's last flush of publications took to commit, in seconds.
    public var lastPublishSeconds: Double = 0
}

/// What the directory is asked on a client's behalf.
enum DirectoryRequest: Sendable {
    case join(ClusterJoinRequest)
    case resume(ClusterResumeRequest)
}

/// A parked session claimed for a resume, until its `moved` notice comes back.
struct PendingClaim: Sendable {
    var request: ClusterResumeRequest
    var parked: ParkedSession
    var mailbox: [RemoteDelivery]
}

/// This node's publications not yet committed, oldest first, at most `limit` of them.
struct PublicationQueue {
    private var items: Deque<ClusterPublication> = []
    /// Entries dropped since the last successful commit (the first drop is logged).
    var droppedSinceLog = 0

    /// Appends, dropping the oldest entry beyond `limit`; returns `true` for the first drop since the last success.
    mutating func append(_ publication: ClusterPublication, limit: Int) -> Bool {
        items.append(publication)
        guard items.count > limit else { return false }
        items.removeFirst()
        droppedSinceLog += 1
        return droppedSinceLog == 1
    }

    /// Takes everything queued.
    mutating func takeAll() -> [ClusterPublication] {
        defer { items.removeAll(keepingCapacity: true) }
        return Array(items)
    }

    /// Puts back what could not be committed, ahead of anything queued since.
    mutating func restore(_ publications: [ClusterPublication]) {
        items.insert(contentsOf: publications, at: 0)
    }
}
