/// The limits and timings of the room core. Every value has a production default and a `--help` entry.
public struct SignalingConfiguration: Sendable, Equatable {
    /// Members per room unless the creating `join` asks for another capacity.
    public var roomCapacity = 8
    /// Largest capacity a creating `join` may ask for.
    public var maximumRoomCapacity = 64
    /// Messages held per room while its only member broadcasts.
    public var heldMessageLimit = 64
    /// How long a held message waits for a joiner before its sender is told it expired.
    public var heldMessageTTL: Duration = .seconds(30)
    /// How long a dropped session may resume before its peers see `bye`.
    public var gracePeriod: Duration = .seconds(20)
    /// Requests per second per session (sustained).
    public var messageRate = 50.0
    /// Requests a session may send in a burst.
    public var messageBurst = 200.0
    /// Joins per second per client address (sustained).
    public var joinRate = 5.0
    /// Joins a client address may make in a burst.
    public var joinBurst = 20.0
    /// Sequenced messages kept per session for resume.
    public var historyLimit = 256
    /// Bytes of sequenced messages kept per session for resume (estimated wire size); the oldest go first.
    public var historyByteLimit = 1 << 20
    /// Sessions the server holds at once, connected or in grace.
    public var maximumSessions = 50_000
    /// How long a message relayed across nodes that arrived ahead of an earlier one from the same sender waits for
    /// it (the earlier one is then taken as lost, and order given up for it).
    public var reorderWait: Duration = .seconds(2)
    /// Messages a session holds waiting for earlier ones, beyond which the oldest gap is given up.
    public var reorderLimit = 256

    /// The defaults.
    public init() {}
}
