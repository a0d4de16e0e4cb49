import Storage

/// How a node takes part in a cluster.
public struct ClusterSettings: Sendable, Equatable {
    /// The name shown in logs, `/readyz` and the admin API (`--node-name`; the host name by default).
    public var nodeName: String
    /// How often the node proves it is alive.
    public var heartbeatInterval: Duration = .seconds(2)
    /// A node whose last heartbeat is older than this is declared dead and its members leave their rooms.
    public var deadAfter: Duration = .seconds(10)
    /// How long a join or a publication waits for the directory before it counts as unreachable.
    public var directoryTimeout: Duration = .seconds(3)
    /// How long a session handed over by a draining node waits to be resumed on another before it leaves its room.
    public var parkedLifetime: Duration = .seconds(20)
    /// How long a stopping node keeps listening after handing its sessions over, to forward late messages.
    public var linger: Duration = .seconds(1)
    /// The NOTIFY channel every node listens on.
    public var channel = "switchboard_cluster"
    /// Publications kept while the database is away; beyond it the oldest are dropped (and logged).
    public var publicationLimit = 100_000

    /// Settings for a node called `nodeName`.
    public init(nodeName: String) {
        self.nodeName = nodeName
    }
}

/// Where a node's cluster lives and how it takes part: set when the database is PostgreSQL.
public struct ClusterConfiguration: Sendable, Equatable {
    /// The shared database.
    public var location: PostgresLocation
    /// The node's settings.
    public var settings: ClusterSettings

    /// A node of the cluster in `location`.
    public init(location: PostgresLocation, settings: ClusterSettings) {
        self.location = location
        self.settings = settings
    }
}
