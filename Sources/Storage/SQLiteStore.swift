import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, through GRDB.
///
/// WAL lets `switchboard user …` and the admin API write while the server reads; `synchronous = NORMAL` keeps
/// every committed transaction across a process crash (only a power loss can take the last ones).
public final class SQLiteStore: Store {
    private let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and migrates it to the latest schema.
    public convenience init(path: String) async throws {
        try await self.init(path: path, migrations: SchemaMigrations.all)
    }

    /// Opens the database with a given migration list (tests play a newer binary with a longer one).
    init(path: String, migrations: [SchemaMigrations.Migration]) async throws {
        var configuration = Configuration()
        // The CLI and the server may write at once: wait for the other writer rather than fail.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // Owner only: the file holds TURN keys. SQLite gives its -wal and -shm files the same mode.
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
        try await migrate(migrations)
    }

    private func migrate(_ migrations: [SchemaMigrations.Migration]) async throws {
        try await pool.writeWithoutTransaction { db in
            // IMMEDIATE takes the write lock first, so two processes starting at once migrate one after the other.
            try db.inTransaction(.immediate) {
                try db.execute(sql: SchemaMigrations.versionTable)
                let current = try Int.fetchOne(db, sql: "SELECT MAX(version) FROM switchboard_schema") ?? 0
                for migration in try SchemaMigrations.pending(from: current, migrations: migrations) {
                    for statement in migration.statements { try db.execute(sql: statement) }
                    try db.execute(
                        sql: "INSERT INTO switchboard_schema (version, applied_at) VALUES (?, ?)",
                        arguments: [migration.version, Date().storedMilliseconds])
                }
                return .commit
            }
        }
    }

    public func schemaVersion() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT MAX(version) FROM switchboard_schema") ?? 0 }
    }

    // MARK: Users

    public func saveUser(_ user: StoredTURNUser) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO turn_users (username, realm, md5_key, sha256_key, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (realm, username) DO UPDATE SET md5_key = excluded.md5_key,
                        sha256_key = excluded.sha256_key, updated_at = excluded.updated_at
                    """,
                arguments: [
                    user.username, user.realm, HexKey.encode(user.md5Key), HexKey.encode(user.sha256Key),
                    user.updatedAt.storedMilliseconds,
                ])
        }
    }

    public func removeUser(username: String, realm: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM turn_users WHERE username = ? AND realm = ?", arguments: [username, realm])
            return db.changesCount > 0
        }
    }

    public func user(username: String, realm: String) async throws -> StoredTURNUser? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM turn_users WHERE username = ? AND realm = ?", arguments: [username, realm]
            ).map(Self.user)
        }
    }

    public func users(realm: String?) async throws -> [StoredTURNUser] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM turn_users WHERE (?1 IS NULL OR realm = ?1) ORDER BY realm, username",
                arguments: [realm]
            ).map(Self.user)
        }
    }

    private static func user(_ row: Row) -> StoredTURNUser {
        StoredTURNUser(
            username: row["username"], realm: row["realm"], md5Key: HexKey.decode(row["md5_key"]),
            sha256Key: HexKey.decode(row["sha256_key"]), updatedAt: Date(storedMilliseconds: row["updated_at"]))
    }

    // MARK: Rooms

    public func createRoom(_ room: StoredRoom) async throws {
        do {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO rooms (name, capacity, password_hash, locked, created_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [room.name, room.capacity, room.passwordHash, room.isLocked, room.createdAt.storedMilliseconds])
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw StoreError.alreadyExists(room.name)
        }
    }

    public func updateRoom(_ room: StoredRoom) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE rooms SET capacity = ?, password_hash = ?, locked = ? WHERE name = ?",
                arguments: [room.capacity, room.passwordHash, room.isLocked, room.name])
            return db.changesCount > 0
        }
    }

    public func room(named name: String) async throws -> StoredRoom? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM rooms WHERE name = ?", arguments: [name]).map(Self.room)
        }
    }

    public func rooms() async throws -> [StoredRoom] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM rooms ORDER BY name").map(Self.room) }
    }

    public func removeRoom(named name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM rooms WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    private static func room(_ row: Row) -> StoredRoom {
        StoredRoom(
            name: row["name"], capacity: row["capacity"], passwordHash: row["password_hash"], isLocked: row["locked"],
            createdAt: Date(storedMilliseconds: row["created_at"]))
    }

    // MARK: Records

    public func appendRecords(sessions: [SessionRecord], allocations: [AllocationRecord]) async throws {
        guard !sessions.isEmpty || !allocations.isEmpty else { return }
        try await pool.write { db in
            for record in sessions {
                try db.execute(
                    sql: """
                        INSERT INTO session_records (session_id, room, display_name, transport, joined_at, left_at, leave_reason)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        record.sessionID, record.room, record.displayName, record.transport,
                        record.joinedAt.storedMilliseconds, record.leftAt.storedMilliseconds, record.leaveReason,
                    ])
            }
            for record in allocations {
                try db.execute(
                    sql: """
                        INSERT INTO allocation_records (username, transport, client_address, relay_address, started_at,
                            ended_at, bytes_sent, packets_sent, bytes_received, packets_received)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        record.username, record.transport, record.clientAddress, record.relayAddress,
                        record.startedAt.storedMilliseconds, record.endedAt.storedMilliseconds, record.bytesSent,
                        record.packetsSent, record.bytesReceived, record.packetsReceived,
                    ])
            }
        }
    }

    public func sessionRecords(_ query: RecordQuery) async throws -> [SessionRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM session_records WHERE (?1 IS NULL OR room = ?1) AND (?2 IS NULL OR left_at >= ?2)
                        AND (?3 IS NULL OR joined_at < ?3) ORDER BY left_at DESC, joined_at DESC LIMIT ?4
                    """,
                arguments: [query.subject, query.since?.storedMilliseconds, query.until?.storedMilliseconds, query.limit]
            ).map { row in
                SessionRecord(
                    sessionID: row["session_id"], room: row["room"], displayName: row["display_name"],
                    transport: row["transport"], joinedAt: Date(storedMilliseconds: row["joined_at"]),
                    leftAt: Date(storedMilliseconds: row["left_at"]), leaveReason: row["leave_reason"])
            }
        }
    }

    public func allocationRecords(_ query: RecordQuery) async throws -> [AllocationRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM allocation_records WHERE (?1 IS NULL OR username = ?1) AND (?2 IS NULL OR ended_at >= ?2)
                        AND (?3 IS NULL OR started_at < ?3) ORDER BY ended_at DESC, started_at DESC LIMIT ?4
                    """,
                arguments: [query.subject, query.since?.storedMilliseconds, query.until?.storedMilliseconds, query.limit]
            ).map { row in
                AllocationRecord(
                    username: row["username"], transport: row["transport"], clientAddress: row["client_address"],
                    relayAddress: row["relay_address"], startedAt: Date(storedMilliseconds: row["started_at"]),
                    endedAt: Date(storedMilliseconds: row["ended_at"]), bytesSent: row["bytes_sent"],
                    packetsSent: row["packets_sent"], bytesReceived: row["bytes_received"],
                    packetsReceived: row["packets_received"])
            }
        }
    }
}
