/// TURN long-term users (the `switchboard user` commands and the admin API).
public protocol TURNUserStore: Sendable {
    /// Adds a user or replaces the keys of an existing one.
    func saveUser(_ user: StoredTURNUser) async throws
    /// Removes a user; `false` when there was none.
    func removeUser(username: String, realm: String) async throws -> Bool
    /// One user, if stored.
    func user(username: String, realm: String) async throws -> StoredTURNUser?
    /// Every user, by realm then name; only `realm`'s when given.
    func users(realm: String?) async throws -> [StoredTURNUser]
}

/// Persistent rooms.
public protocol RoomStore: Sendable {
    /// Creates a room; throws ``StoreError/alreadyExists(_:)`` when the name is taken.
    func createRoom(_ room: StoredRoom) async throws
    /// Replaces a room's settings; `false` when there is no such room.
    func updateRoom(_ room: StoredRoom) async throws -> Bool
    /// One room, if stored.
    func room(named name: String) async throws -> StoredRoom?
    /// Every room, by name.
    func rooms() async throws -> [StoredRoom]
    /// Removes a room; `false` when there was none.
    func removeRoom(named name: String) async throws -> Bool
}

/// Call records: who was in which room when, and what TURN relayed.
public protocol CallRecordStore: Sendable {
    /// Appends records in one transaction.
    func appendRecords(sessions: [SessionRecord], allocations: [AllocationRecord]) async throws
    /// Session records, newest first; `query.subject` is a room.
    func sessionRecords(_ query: RecordQuery) async throws -> [SessionRecord]
    /// Allocation records, newest first; `query.subject` is a username.
    func allocationRecords(_ query: RecordQuery) async throws -> [AllocationRecord]
}

/// Everything the server keeps. SQLite and PostgreSQL implement it and pass one contract suite.
public protocol Store: TURNUserStore, RoomStore, CallRecordStore {
    /// The schema version the database is at.
    func schemaVersion() async throws -> Int
}

/// Why a store operation failed, beyond the backend's own errors.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A record with this key exists.
    case alreadyExists(String)
    /// The database was migrated by a newer Switchboard.
    case schemaTooNew(found: Int, supported: Int)
    /// The `--database` value is not a usable location.
    case invalidLocation(String)

    public var description: String {
        switch self {
        case .alreadyExists(let key):
            return "'\(key)' already exists"
        case .schemaTooNew(let found, let supported):
            return
                "the database schema is version \(found), newer than this binary supports (\(supported)); run a Switchboard at least as new as the one that migrated it"
        case .invalidLocation(let reason):
            return "invalid --database: \(reason)"
        }
    }
}
