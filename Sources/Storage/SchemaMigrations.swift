/// The versioned schema, shared by both backends: each migration's statements are plain SQL that SQLite and
/// PostgreSQL both accept (times are BIGINT milliseconds, keys are hex TEXT).
public enum SchemaMigrations {
    /// One step of the schema.
    public struct Migration: Sendable {
        /// The version the database is at after this step.
        public var version: Int
        /// Statements run in order, in the migration's transaction.
        public var statements: [String]
    }

    /// Holds one row per applied migration.
    static let versionTable = "CREATE TABLE IF NOT EXISTS switchboard_schema (version INTEGER NOT NULL, applied_at BIGINT NOT NULL)"

    /// Every migration this binary knows, oldest first. Append only: a released step never changes.
    public static let all: [Migration] = [
        Migration(
            version: 1,
            statements: [
                """
                CREATE TABLE turn_users (
                    username TEXT NOT NULL, realm TEXT NOT NULL, md5_key TEXT NOT NULL, sha256_key TEXT NOT NULL,
                    updated_at BIGINT NOT NULL, PRIMARY KEY (realm, username))
                """,
                """
                CREATE TABLE rooms (
                    name TEXT PRIMARY KEY, capacity INTEGER, password_hash TEXT, locked BOOLEAN NOT NULL DEFAULT FALSE,
                    created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE session_records (
                    session_id TEXT NOT NULL, room TEXT NOT NULL, display_name TEXT, transport TEXT NOT NULL,
                    joined_at BIGINT NOT NULL, left_at BIGINT NOT NULL, leave_reason TEXT NOT NULL)
                """,
                "CREATE INDEX session_records_by_room ON session_records (room, left_at)",
                "CREATE INDEX session_records_by_time ON session_records (left_at)",
                """
                CREATE TABLE allocation_records (
                    username TEXT NOT NULL, transport TEXT NOT NULL, client_address TEXT NOT NULL,
                    relay_address TEXT NOT NULL, started_at BIGINT NOT NULL, ended_at BIGINT NOT NULL,
                    bytes_sent BIGINT NOT NULL, packets_sent BIGINT NOT NULL,
                    bytes_received BIGINT NOT NULL, packets_received BIGINT NOT NULL)
                """,
                "CREATE INDEX allocation_records_by_user ON allocation_records (username, ended_at)",
                "CREATE INDEX allocation_records_by_time ON allocation_records (ended_at)",
            ])
    ]

    /// The newest version this binary knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// The migrations to run on a database at `current`; refuses a database newer than this binary.
    public static func pending(from current: Int, migrations: [Migration] = all) throws -> [Migration] {
        let latest = migrations.last?.version ?? 0
        guard current <= latest else { throw StoreError.schemaTooNew(found: current, supported: latest) }
        return migrations.filter { $0.version > current }
    }
}
