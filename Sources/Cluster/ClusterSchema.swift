/// The cluster's tables. They hold only live state (who is where, now), so they are UNLOGGED: faster, and a
/// database crash empties them, which is what a restart of every node would do anyway.
enum ClusterSchema {
    static let statements = [
        """
        CREATE UNLOGGED TABLE IF NOT EXISTS cluster_nodes (
            node TEXT PRIMARY KEY, name TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            last_seen TIMESTAMPTZ NOT NULL DEFAULT now())
        """,
        """
        CREATE UNLOGGED TABLE IF NOT EXISTS cluster_rooms (
            name TEXT PRIMARY KEY, capacity INTEGER NOT NULL, password_digest TEXT)
        """,
        """
        CREATE UNLOGGED TABLE IF NOT EXISTS cluster_members (
            session TEXT PRIMARY KEY, room TEXT NOT NULL, node TEXT NOT NULL, name TEXT, identity TEXT,
            can_publish BOOLEAN NOT NULL, joined_at TIMESTAMPTZ NOT NULL DEFAULT now())
        """,
        "ALTER TABLE cluster_members ADD COLUMN IF NOT EXISTS token_digest TEXT",
        "CREATE INDEX IF NOT EXISTS cluster_members_room ON cluster_members (room)",
        "CREATE INDEX IF NOT EXISTS cluster_members_token ON cluster_members (token_digest)",
        "CREATE INDEX IF NOT EXISTS cluster_members_node ON cluster_members (node)",
        """
        CREATE UNLOGGED TABLE IF NOT EXISTS cluster_sessions (
            session TEXT PRIMARY KEY, token_digest TEXT NOT NULL UNIQUE, room TEXT NOT NULL, state TEXT NOT NULL,
            parked_at TIMESTAMPTZ NOT NULL DEFAULT now())
        """,
        """
        CREATE UNLOGGED TABLE IF NOT EXISTS cluster_mailbox (
            id BIGSERIAL PRIMARY KEY, session TEXT NOT NULL, body TEXT NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS cluster_mailbox_session ON cluster_mailbox (session)",
        """
        CREATE UNLOGGED TABLE IF NOT EXISTS cluster_payloads (
            id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())
        """,
    ]

    /// An arbitrary constant naming the schema lock among the database's advisory locks.
    static let schemaLock: Int64 = 0x5342_434C
}
