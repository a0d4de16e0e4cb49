import Foundation

/// A long-term TURN user as stored: its RFC 8489 keys, never its password.
public struct StoredTURNUser: Equatable, Sendable {
    /// The STUN USERNAME.
    public var username: String
    /// The realm its keys were derived with.
    public var realm: String
    /// MD5(username:realm:password) (RFC 8489 §9.2.2), 16 bytes.
    public var md5Key: [UInt8]
    /// SHA-256(username:realm:password) (RFC 8489 §18.5.1.2), 32 bytes.
    public var sha256Key: [UInt8]
    /// When it was added or last changed.
    public var updatedAt: Date

    /// Creates a user record.
    public init(username: String, realm: String, md5Key: [UInt8], sha256Key: [UInt8], updatedAt: Date) {
        self.username = username
        self.realm = realm
        self.md5Key = md5Key
        self.sha256Key = sha256Key
        self.updatedAt = updatedAt
    }
}

/// A room kept across restarts: its capacity, password and lock survive the last member leaving.
public struct StoredRoom: Equatable, Sendable {
    /// The room name, as clients join it.
    public var name: String
    /// Members admitted at once; `nil` uses the server's default.
    public var capacity: Int?
    /// The password's slow hash (``RoomPasswordHash``), or `nil` for an open room.
    public var passwordHash: String?
    /// A locked room admits nobody new.
    public var isLocked: Bool
    /// When it was created.
    public var createdAt: Date

    /// Creates a room record.
    public init(name: String, capacity: Int? = nil, passwordHash: String? = nil, isLocked: Bool = false, createdAt: Date) {
        self.name = name
        self.capacity = capacity
        self.passwordHash = passwordHash
        self.isLocked = isLocked
        self.createdAt = createdAt
    }
}

/// One session's stay in one room.
public struct SessionRecord: Equatable, Sendable {
    /// The signaling session id.
    public var sessionID: String
    /// The room it was in.
    public var room: String
    /// The display name it gave, if any.
    public var displayName: String?
    /// `websocket`, `socketio` or `sse`.
    public var transport: String
    /// When it entered the room.
    public var joinedAt: Date
    /// When it left.
    public var leftAt: Date
    /// Why it left: `left`, `closed`, `timeout`, `removed`, `evicted`, `shutdown`…
    public var leaveReason: String

    /// Creates a session record.
    public init(
        sessionID: String, room: String, displayName: String?, transport: String, joinedAt: Date, leftAt: Date,
        leaveReason: String
    ) {
        self.sessionID = sessionID
        self.room = room
        self.displayName = displayName
        self.transport = transport
        self.joinedAt = joinedAt
        self.leftAt = leftAt
        self.leaveReason = leaveReason
    }
}

/// What one TURN allocation relayed, written when it ends.
public struct AllocationRecord: Equatable, Sendable {
    /// The username that authenticated the allocation.
    public var username: String
    /// `udp`, `tcp` or `tls`: the client's transport to the server.
    public var transport: String
    /// The client's address and port.
    public var clientAddress: String
    /// The relayed transport address.
    public var relayAddress: String
    /// When it was created.
    public var startedAt: Date
    /// When it ended.
    public var endedAt: Date
    /// Bytes and packets relayed from the client to peers.
    public var bytesSent: Int64
    /// Packets relayed from the client to peers.
    public var packetsSent: Int64
    /// Bytes relayed from peers to the client.
    public var bytesReceived: Int64
    /// Packets relayed from peers to the client.
    public var packetsReceived: Int64

    /// Creates an allocation record.
    public init(
        username: String, transport: String, clientAddress: String, relayAddress: String, startedAt: Date, endedAt: Date,
        bytesSent: Int64, packetsSent: Int64, bytesReceived: Int64, packetsReceived: Int64
    ) {
        self.username = username
        self.transport = transport
        self.clientAddress = clientAddress
        self.relayAddress = relayAddress
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.bytesSent = bytesSent
        self.packetsSent = packetsSent
        self.bytesReceived = bytesReceived
        self.packetsReceived = packetsReceived
    }
}

/// Which records to read: all filters are optional and combine with AND.
public struct RecordQuery: Equatable, Sendable {
    /// Only this room (session records) or this username (allocation records).
    public var subject: String?
    /// Only records that ended at or after this time.
    public var since: Date?
    /// Only records that started before this time.
    public var until: Date?
    /// At most this many, newest first.
    public var limit: Int

    /// Creates a query.
    public init(subject: String? = nil, since: Date? = nil, until: Date? = nil, limit: Int = 1000) {
        self.subject = subject
        self.since = since
        self.until = until
        self.limit = limit
    }
}

extension Date {
    /// Milliseconds since 1970, the one time format in both schemas.
    var storedMilliseconds: Int64 {
        // Clamped: a time from user input (a query's bound) must never trap the conversion.
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        guard milliseconds.isFinite else { return milliseconds > 0 ? .max : .min }
        return Int64(max(min(milliseconds, 9.0e18), -9.0e18))
    }

    init(storedMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(storedMilliseconds) / 1000)
    }
}
