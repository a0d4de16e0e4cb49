import Foundation
import Logging
import PostgresNIO

/// The cluster store: PostgreSQL through postgres-nio's pooled `PostgresClient`.
///
/// The client's `run()` must be running for queries to proceed; ``withStore(_:logger:_:)`` does that in a child
/// task, so the pool lives exactly as long as the work that uses it.
public final class PostgresStore: Store {
    /// The pool, whose `run()` lives outside the service group: the cluster shares it, so its last publications
    /// and its deregistration still go through while the services stop.
    public let client: PostgresClient
    private let logger: Logger

    /// Wraps a client whose `run()` is running; call ``migrate()`` before anything else.
    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Brings the schema to the latest version (of `migrations`), refusing a newer one.
    func migrate(_ migrations: [SchemaMigrations.Migration] = SchemaMigrations.all) async throws {
        let logger = logger
        do {
            try await runMigrations(migrations, logger: logger)
        } catch let error as PostgresTransactionError {
            // Surface our own refusal (a newer schema) rather than the transaction wrapper around it.
            throw error.closureError ?? error
        }
    }

    private func runMigrations(_ migrations: [SchemaMigrations.Migration], logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            // One node migrates at a time: the others wait here, then find nothing pending.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: SchemaMigrations.versionTable), logger: logger)
            var current = 0
            for try await version in try await connection.query("SELECT MAX(version) FROM switchboard_schema", logger: logger)
                .decode(Int?.self)
            {
                current = version ?? 0
            }
            for migration in try SchemaMigrations.pending(from: current, migrations: migrations) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO switchboard_schema (version, applied_at) VALUES (\(migration.version), \(Date().storedMilliseconds))",
                    logger: logger)
            }
        }
    }

    /// An arbitrary constant naming Switchboard's migration lock among the database's advisory locks.
    private static let migrationLock: Int64 = 0x5357_4244

    public func schemaVersion() async throws -> Int {
        var version = 0
        for try await value in try await client.query("SELECT MAX(version) FROM switchboard_schema", logger: logger)
            .decode(Int?.self)
        {
            version = value ?? 0
        }
        return version
    }

    // MARK: Users

    public func saveUser(_ user: StoredTURNUser) async throws {
        try await client.query(
            """
            INSERT INTO turn_users (username, realm, md5_key, sha256_key, updated_at)
            VALUES (\(user.username), \(user.realm), \(HexKey.encode(user.md5Key)), \(HexKey.encode(user.sha256Key)),
                \(user.updatedAt.storedMilliseconds))
            ON CONFLICT (realm, username) DO UPDATE SET md5_key = excluded.md5_key, sha256_key = excluded.sha256_key,
                updated_at = excluded.updated_at
            """, logger: logger)
    }

    public func removeUser(username: String, realm: String) async throws -> Bool {
        try await exists(
            "DELETE FROM turn_users WHERE username = \(username) AND realm = \(realm) RETURNING username")
    }

    public func user(username: String, realm: String) async throws -> StoredTURNUser? {
        try await users(
            "SELECT username, realm, md5_key, sha256_key, updated_at FROM turn_users WHERE username = \(username) AND realm = \(realm)"
        )
        .first
    }

    public func users(realm: String?) async throws -> [StoredTURNUser] {
        try await users(
            """
            SELECT username, realm, md5_key, sha256_key, updated_at FROM turn_users
            WHERE (\(realm)::text IS NULL OR realm = \(realm)) ORDER BY realm, username
            """)
    }

    private func users(_ query: PostgresQuery) async throws -> [StoredTURNUser] {
        var result: [StoredTURNUser] = []
        for try await (username, realm, md5, sha256, updated) in try await client.query(query, logger: logger)
            .decode((String, String, String, String, Int64).self)
        {
            result.append(
                StoredTURNUser(
                    username: username, realm: realm, md5Key: HexKey.decode(md5), sha256Key: HexKey.decode(sha256),
                    updatedAt: Date(storedMilliseconds: updated)))
        }
        return result
    }

    // MARK: Rooms

    public func createRoom(_ room: StoredRoom) async throws {
        let inserted = try await exists(
            """
            INSERT INTO rooms (name, capacity, password_hash, locked, created_at)
            VALUES (\(room.name), \(room.capacity), \(room.passwordHash), \(room.isLocked), \(room.createdAt.storedMilliseconds))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """)
        guard inserted else { throw StoreError.alreadyExists(room.name) }
    }

    public func updateRoom(_ room: StoredRoom) async throws -> Bool {
        try await exists(
            """
            UPDATE rooms SET capacity = \(room.capacity), password_hash = \(room.passwordHash), locked = \(room.isLocked)
            WHERE name = \(room.name) RETURNING name
            """)
    }

    public func room(named name: String) async throws -> StoredRoom? {
        try await rooms(
            "SELECT name, capacity, password_hash, locked, created_at FROM rooms WHERE name = \(name)"
        ).first
    }

    public func rooms() async throws -> [StoredRoom] {
        try await rooms("SELECT name, capacity, password_hash, locked, created_at FROM rooms ORDER BY name")
    }

    public func removeRoom(named name: String) async throws -> Bool {
        try await exists("DELETE FROM rooms WHERE name = \(name) RETURNING name")
    }

    private func rooms(_ query: PostgresQuery) async throws -> [StoredRoom] {
        var result: [StoredRoom] = []
        for try await (name, capacity, hash, locked, created) in try await client.query(query, logger: logger)
            .decode((String, Int?, String?, Bool, Int64).self)
        {
            result.append(
                StoredRoom(
                    name: name, capacity: capacity, passwordHash: hash, isLocked: locked,
                    createdAt: Date(storedMilliseconds: created)))
        }
        return result
    }

    // MARK: Records

    public func appendRecords(sessions: [SessionRecord], allocations: [AllocationRecord]) async throws {
        guard !sessions.isEmpty || !allocations.isEmpty else { return }
        let logger = logger
        try await client.withTransaction(logger: logger) { connection in
            for record in sessions {
                try await connection.query(
                    """
                    INSERT INTO session_records (session_id, room, display_name, transport, joined_at, left_at, leave_reason)
                    VALUES (\(record.sessionID), \(record.room), \(record.displayName), \(record.transport),
                        \(record.joinedAt.storedMilliseconds), \(record.leftAt.storedMilliseconds), \(record.leaveReason))
                    """, logger: logger)
            }
            for record in allocations {
                try await connection.query(
                    """
                    INSERT INTO allocation_records (username, transport, client_address, relay_address, started_at,
                        ended_at, bytes_sent, packets_sent, bytes_received, packets_received)
                    VALUES (\(record.username), \(record.transport), \(record.clientAddress), \(record.relayAddress),
                        \(record.startedAt.storedMilliseconds), \(record.endedAt.storedMilliseconds), \(record.bytesSent),
                        \(record.packetsSent), \(record.bytesReceived), \(record.packetsReceived))
                    """, logger: logger)
            }
        }
    }

    public func sessionRecords(_ query: RecordQuery) async throws -> [SessionRecord] {
        let since = query.since?.storedMilliseconds
        let until = query.until?.storedMilliseconds
        let rows = try await client.query(
            """
            SELECT session_id, room, display_name, transport, joined_at, left_at, leave_reason FROM session_records
            WHERE (\(query.subject)::text IS NULL OR room = \(query.subject)) AND (\(since)::bigint IS NULL OR left_at >= \(since))
                AND (\(until)::bigint IS NULL OR joined_at < \(until))
            ORDER BY left_at DESC, joined_at DESC LIMIT \(query.limit)
            """, logger: logger)
        var result: [SessionRecord] = []
        for try await (session, room, name, transport, joined, left, reason) in rows.decode(
            (String, String, String?, String, Int64, Int64, String).self)
        {
            result.append(
                SessionRecord(
                    sessionID: session, room: room, displayName: name, transport: transport,
                    joinedAt: Date(storedMilliseconds: joined), leftAt: Date(storedMilliseconds: left), leaveReason: reason))
        }
        return result
    }

    public func allocationRecords(_ query: RecordQuery) async throws -> [AllocationRecord] {
        let since = query.since?.storedMilliseconds
        let until = query.until?.storedMilliseconds
        let rows = try await client.query(
            """
            SELECT username, transport, client_address, relay_address, started_at, ended_at, bytes_sent, packets_sent,
                bytes_received, packets_received FROM allocation_records
            WHERE (\(query.subject)::text IS NULL OR username = \(query.subject))
                AND (\(since)::bigint IS NULL OR ended_at >= \(since)) AND (\(until)::bigint IS NULL OR started_at < \(until))
            ORDER BY ended_at DESC, started_at DESC LIMIT \(query.limit)
            """, logger: logger)
        var result: [AllocationRecord] = []
        for try await (username, transport, client, relay, started, ended, bytesSent, packetsSent, bytesReceived, packetsReceived)
            in rows.decode((String, String, String, String, Int64, Int64, Int64, Int64, Int64, Int64).self)
        {
            result.append(
                AllocationRecord(
                    username: username, transport: transport, clientAddress: client, relayAddress: relay,
                    startedAt: Date(storedMilliseconds: started), endedAt: Date(storedMilliseconds: ended),
                    bytesSent: bytesSent, packetsSent: packetsSent, bytesReceived: bytesReceived,
                    packetsReceived: packetsReceived))
        }
        return result
    }

    /// Runs a statement with `RETURNING` and says whether it returned a row.
    private func exists(_ query: PostgresQuery) async throws -> Bool {
        var found = false
        for try await _ in try await client.query(query, logger: logger) { found = true }
        return found
    }
}
