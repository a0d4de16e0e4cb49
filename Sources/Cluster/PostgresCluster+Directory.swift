import Logging
import PostgresNIO
import Signaling
import SignalingCore
import Storage

extension PostgresCluster {
    /// One transaction on the pool, given up after `directoryTimeout`: a database that stops answering makes the
    /// pool wait rather than fail, and no join, publication or heartbeat may wait on it forever.
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        try await withDeadline(settings.directoryTimeout) {
            try await self.client.withTransaction(logger: self.quietLogger) { connection in try await body(connection) }
        }
    }

    /// Creates the cluster's tables once per database (nodes starting together take turns).
    func ensureSchema() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(ClusterSchema.schemaLock))", logger: self.quietLogger)
            for statement in ClusterSchema.statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.quietLogger)
            }
        }
    }

    /// Publishes `events` in order within the caller's transaction: they reach every listener when it commits.
    func notify(_ events: [(NodeID?, BusEvent)], connection: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        let batches = batcher.withLock { $0.encode(events: events) }
        try await notify(batches, connection: connection)
    }

    /// Sends encoded batches; one too large for NOTIFY is stored in the payload table and referenced.
    func notify(_ batches: [EncodedBatch], connection: PostgresConnection) async throws {
        var texts: [String] = []
        for batch in batches {
            var text = batch.text
            if !batch.fitsNotification {
                var id: Int64 = 0
                for try await value in try await connection.query(
                    "INSERT INTO cluster_payloads (body) VALUES (\(batch.body)) RETURNING id", logger: quietLogger
                ).decode(Int64.self) {
                    id = value
                }
                text = batch.header + "@\(id)"
            }
            texts.append(text)
            try await connection.query("SELECT pg_notify(\(settings.channel), \(text))", logger: quietLogger)
        }
        countSent(texts)
    }

    func countSent(_ texts: [String]) {
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        counters.withLock {
            $0.notificationsSent &+= UInt64(texts.count)
            $0.bytesSent &+= UInt64(bytes)
        }
    }

    /// Lists `member` in the directory.
    func insert(_ member: RemoteMember, token: String? = nil, connection: PostgresConnection) async throws {
        let digest = token.map(ParkedSession.tokenDigest)
        try await connection.query(
            """
            INSERT INTO cluster_members (session, room, node, name, identity, can_publish, token_digest)
            VALUES (\(member.peer.id.rawValue), \(member.room.rawValue), \(member.node.rawValue), \(member.peer.name),
                \(member.peer.identity), \(member.peer.canPublish), \(digest))
            ON CONFLICT (session) DO UPDATE SET room = excluded.room, node = excluded.node
            """, logger: quietLogger)
    }

    /// Creates a room's row when none exists (re-registering members after the directory lost them).
    func insertRoomIfAbsent(_ room: RoomName, capacity: Int, connection: PostgresConnection) async throws {
        try await connection.query(
            "INSERT INTO cluster_rooms (name, capacity) VALUES (\(room.rawValue), \(capacity)) ON CONFLICT (name) DO NOTHING",
            logger: quietLogger)
    }

    // MARK: Joins

    /// Answers joins and resumes as they come, each in its own transaction.
    func serveRequests() async {
        await withDiscardingTaskGroup { group in
            for await request in requests {
                switch request {
                case .join(let join): group.addTask { await self.admit(join) }
                case .resume(let resume): group.addTask { await self.claim(resume) }
                }
            }
        }
    }

    /// One join, under the room's advisory lock: the room's capacity, password and same-identity members are read
    /// and the member listed in one transaction, and its `joined` (after the evictions it causes) is published on
    /// commit. The hub completes the join when that notification comes back, so by then it has applied every
    /// change committed before it.
    func admit(_ request: ClusterJoinRequest) async {
        let refusal: ClusterJoinRefusal?
        do {
            refusal = try await transaction { connection in try await self.admit(request, connection: connection) }
        } catch {
            logger.warning(
                "cluster join failed: directory unreachable",
                metadata: ["sig.room": "\(request.room)", "cluster.error": "\(String(reflecting: error))"])
            refusal = .error(.clusterUnavailable, "the cluster directory is unreachable; try again shortly")
        }
        if let refusal {
            await hub.clusterJoinRefused(request, refusal: refusal)
        }
    }

    private func admit(_ request: ClusterJoinRequest, connection: PostgresConnection) async throws -> ClusterJoinRefusal? {
        let room = request.room.rawValue
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\("switchboard.room:" + room), 0))", logger: quietLogger)
        var existing: (capacity: Int, digest: String?, members: Int)?
        for try await (capacity, digest, members) in try await connection.query(
            """
            SELECT capacity, password_digest, (SELECT count(*)::INTEGER FROM cluster_members WHERE room = \(room))
            FROM cluster_rooms WHERE name = \(room)
            """, logger: quietLogger
        ).decode((Int, String?, Int).self) {
            existing = (capacity, digest, members)
        }
        var capacity = request.capacity
        var evicted: [(SessionID, NodeID)] = []
        if let existing, existing.members > 0 {
            capacity = existing.capacity
            if request.checksPassword, let digest = existing.digest {
                guard let given = request.passwordDigest else { return .error(.passwordRequired, "room '\(room)' requires a password") }
                guard constantTimeEqual(Array(HexKey.encode(given).utf8), Array(digest.utf8)) else {
                    return .error(.wrongPassword, "wrong password for room '\(room)'")
                }
            }
            if let identity = request.peer.identity {
                for try await (session, node) in try await connection.query(
                    "SELECT session, node FROM cluster_members WHERE room = \(room) AND identity = \(identity)", logger: quietLogger
                ).decode((String, String).self) {
                    evicted.append((SessionID(session), NodeID(node)))
                }
            }
            guard existing.members - evicted.count < capacity else { return .full(capacity: capacity) }
            for (session, _) in evicted {
                try await connection.query("DELETE FROM cluster_members WHERE session = \(session.rawValue)", logger: quietLogger)
            }
        } else {
            // A new room, or the row of one that emptied: the first joiner sets its capacity and password.
            let digest = request.passwordDigest.map(HexKey.encode)
            try await connection.query(
                """
                INSERT INTO cluster_rooms (name, capacity, password_digest) VALUES (\(room), \(capacity), \(digest))
                ON CONFLICT (name) DO UPDATE SET capacity = excluded.capacity, password_digest = excluded.password_digest
                """, logger: quietLogger)
        }
        let member = RemoteMember(peer: request.peer, room: request.room, node: node, capacity: capacity)
        try await insert(member, token: request.token.isEmpty ? nil : request.token, connection: connection)
        var events: [(NodeID?, BusEvent)] = evicted.map { (nil, .left($0.0, room: request.room, reason: .evicted)) }
        events.append((nil, .joined(member)))
        try await notify(events, connection: connection)
        return nil
    }

    // MARK: Hand-over

    /// A resume of a token this node does not know: if a draining node parked that session, take it (its member
    /// row moves here, its mailbox is emptied) and publish `moved`. The hub completes the resume when that notice
    /// comes back.
    func claim(_ request: ClusterResumeRequest) async {
        let claimed: Bool
        do {
            claimed = try await transaction { connection in try await self.claim(request, connection: connection) }
        } catch {
            logger.warning("cluster resume failed: directory unreachable", metadata: ["cluster.error": "\(String(reflecting: error))"])
            claimed = false
        }
        if !claimed {
            await hub.clusterResumeRefused(request)
        }
    }

    /// `true` when the session was claimed, or its node was asked to hand it over (the claim then runs again on
    /// its `moved` notice); `false` when the directory knows no such session.
    private func claim(_ request: ClusterResumeRequest, connection: PostgresConnection) async throws -> Bool {
        let digest = ParkedSession.tokenDigest(request.token)
        // The member row first, locked: a park of this session in flight commits before this reads on, so the
        // session is seen either still served by its node or parked, never in between.
        var owner: (session: String, node: String)?
        for try await row in try await connection.query(
            "SELECT session, node FROM cluster_members WHERE token_digest = \(digest) FOR UPDATE", logger: quietLogger
        ).decode((String, String).self) {
            owner = row
        }
        if let owner, owner.node != NodeID.parked.rawValue {
            return try await askForHandOver(request, owner: owner, connection: connection)
        }
        var found: (session: String, room: String, state: String)?
        for try await row in try await connection.query(
            "SELECT session, room, state FROM cluster_sessions WHERE token_digest = \(digest) FOR UPDATE", logger: quietLogger
        ).decode((String, String, String).self) {
            found = row
        }
        guard let found, let room = RoomName(found.room) else { return false }
        let session = SessionID(found.session)
        try await connection.query("DELETE FROM cluster_sessions WHERE session = \(found.session)", logger: quietLogger)
        var moved = false
        for try await _ in try await connection.query(
            """
            UPDATE cluster_members SET node = \(node.rawValue) WHERE session = \(found.session) AND node = \(NodeID.parked.rawValue)
            RETURNING session
            """, logger: quietLogger
        ).decode(String.self) {
            moved = true
        }
        guard moved else { return false }
        var rows: [(Int64, String)] = []
        for try await row in try await connection.query(
            "DELETE FROM cluster_mailbox WHERE session = \(found.session) RETURNING id, body", logger: quietLogger
        ).decode((Int64, String).self) {
            rows.append(row)
        }
        var mailbox: [RemoteDelivery] = []
        for (_, body) in rows.sorted(by: { $0.0 < $1.0 }) {
            let event = try? BusEvent(json: try JSONValue(parsing: Array(body.utf8), maximumDepth: JSONValue.envelopeDepth))
            if case .delivery(let delivery)? = event { mailbox.append(delivery) }
        }
        let parked = try ParkedSession(session: session, room: room, token: request.token, storedState: found.state)
        try await notify([(nil, .moved(session, room: room, node: node))], connection: connection)
        // Before the commit, so the notice cannot come back first.
        pendingClaims.withLock { $0[session] = PendingClaim(request: request, parked: parked, mailbox: mailbox) }
        return true
    }

    /// The session is not parked: another node still serves it (its client came back here before that node
    /// noticed the drop). Ask that node to hand it over, and wait for its `moved` notice.
    private func askForHandOver(
        _ request: ClusterResumeRequest, owner: (session: String, node: String), connection: PostgresConnection
    ) async throws -> Bool {
        guard owner.node != node.rawValue else { return false }
        let session = SessionID(owner.session)
        let deadline = ContinuousClock.now + settings.directoryTimeout
        awaitingHandOver.withLock { $0[session] = (request, deadline) }
        try await notify([(NodeID(owner.node), .handOver(session))], connection: connection)
        return true
    }

    /// Resumes whose session's node never handed it over are refused.
    func expireHandOverWaits() async {
        let now = ContinuousClock.now
        let expired = awaitingHandOver.withLock { waiting in
            let gone = waiting.filter { $0.value.deadline <= now }
            for id in gone.keys { waiting.removeValue(forKey: id) }
            return gone.values.map(\.request)
        }
        for request in expired {
            await hub.clusterResumeRefused(request)
        }
    }

    /// Forgets a parked session: its state, its member row and its mailbox.
    func removeParked(_ session: String, connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM cluster_sessions WHERE session = \(session)", logger: quietLogger)
        try await connection.query(
            "DELETE FROM cluster_members WHERE session = \(session) AND node = \(NodeID.parked.rawValue)", logger: quietLogger)
        try await connection.query("DELETE FROM cluster_mailbox WHERE session = \(session)", logger: quietLogger)
    }

    /// Parks a session: its state goes to the directory and its member row to the mailbox's care.
    private func park(_ parked: ParkedSession, connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO cluster_sessions (session, token_digest, room, state)
            VALUES (\(parked.peer.id.rawValue), \(ParkedSession.tokenDigest(parked.token)), \(parked.room.rawValue), \(parked.storedState))
            ON CONFLICT (session) DO UPDATE SET state = excluded.state, room = excluded.room, parked_at = now()
            """, logger: quietLogger)
        try await connection.query(
            """
            UPDATE cluster_members SET node = \(NodeID.parked.rawValue)
            WHERE session = \(parked.peer.id.rawValue) AND node = \(node.rawValue)
            """, logger: quietLogger)
    }

    /// A delivery for a session this node believes parked. Locking its member row orders this against a claim: a
    /// session still parked gets it in its mailbox; one claimed meanwhile gets it through its new node (returned).
    private func deliverToMailbox(_ delivery: RemoteDelivery, connection: PostgresConnection) async throws -> NodeID? {
        guard let recipient = delivery.recipient else { return nil }
        var current: String?
        for try await value in try await connection.query(
            "SELECT node FROM cluster_members WHERE session = \(recipient.id.rawValue) FOR SHARE", logger: quietLogger
        ).decode(String.self) {
            current = value
        }
        guard let current else { return nil }
        guard current == NodeID.parked.rawValue else { return NodeID(current) }
        var body = ""
        BusEvent.delivery(delivery).json.write(to: &body)
        try await connection.query(
            "INSERT INTO cluster_mailbox (session, body) VALUES (\(recipient.id.rawValue), \(body))", logger: quietLogger)
        return nil
    }

    // MARK: Publications

    /// Commits this node's publications in order, as many per transaction as have queued, until shutdown; then
    /// flushes what is left. A failed commit keeps them queued (bounded) and retries with back-off.
    func write() async {
        var backoff = Duration.milliseconds(100)
        for await _ in wake {
            while await flush() == false {
                let jittered = backoff * Double.random(in: 0.5...1.5)
                backoff = min(backoff * 2, .seconds(2))
                do {
                    try await Task.sleep(for: jittered)
                } catch {
                    return
                }
            }
            backoff = .milliseconds(100)
        }
        _ = await flush()
    }

    /// Commits what is queued; `false` when the database refused (the publications stay queued).
    func flush() async -> Bool {
        while true {
            let publications = outbox.withLock { $0.takeAll() }
            guard !publications.isEmpty else { return true }
            let started = ContinuousClock.now
            do {
                if let texts = notificationsOnly(publications) {
                    // The common case, relayed messages: one statement, one round trip, no transaction.
                    try await withDeadline(settings.directoryTimeout) {
                        try await self.client.query(
                            "SELECT pg_notify(\(self.settings.channel), payload) FROM unnest(\(texts)::TEXT[]) AS payload",
                            logger: self.quietLogger)
                    }
                    countSent(texts)
                } else {
                    try await transaction { connection in try await self.commit(publications, connection: connection) }
                }
                let elapsed = (ContinuousClock.now - started).secondsDouble
                counters.withLock { $0.lastPublishSeconds = elapsed }
                outbox.withLock { $0.droppedSinceLog = 0 }
            } catch {
                outbox.withLock { $0.restore(publications) }
                logger.debug("cluster publish failed; will retry", metadata: ["cluster.error": "\(String(reflecting: error))"])
                return false
            }
        }
    }

    /// The notification texts of publications that change nothing in the directory and fit NOTIFY (relayed
    /// messages for other nodes), in order; `nil` when any needs the transaction path.
    private func notificationsOnly(_ publications: [ClusterPublication]) -> [String]? {
        for publication in publications {
            guard case .delivery(let node, _) = publication, node != .parked else { return nil }
        }
        let batches = batcher.withLock { $0.encode(publications) }
        guard batches.allSatisfy(\.fitsNotification) else { return nil }
        return batches.map(\.text)
    }

    /// One transaction's worth of publications, in order: leaves and parks change the directory, deliveries to
    /// parked sessions go to the mailbox (or on to where the session went), everything else becomes notifications.
    private func commit(_ publications: [ClusterPublication], connection: PostgresConnection) async throws {
        var events: [(NodeID?, BusEvent)] = []
        events.reserveCapacity(publications.count)
        for publication in publications {
            switch publication {
            case .left(let session, _, _):
                try await connection.query(
                    "DELETE FROM cluster_members WHERE session = \(session.rawValue) AND node = \(node.rawValue)", logger: quietLogger)
            case .delivery(.parked, let delivery):
                guard let current = try await deliverToMailbox(delivery, connection: connection) else { continue }
                events.append((current, .delivery(delivery)))
                continue
            case .park(let parked):
                try await park(parked, connection: connection)
            case .kick(let session, _, .parked):
                try await removeParked(session.rawValue, connection: connection)
            case .delivery, .kick:
                break
            }
            events.append(BusBatcher.event(of: publication))
        }
        try await notify(events, connection: connection)
    }

    /// The last flush of a stopping node, after its linger.
    func flushRemaining() async {
        for _ in 0..<3 where await flush() == false {
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    // MARK: Liveness

    /// Heartbeats; declares nodes dead once they have been silent for `deadAfter` (only after this node has itself
    /// been connected that long, so a database outage does not make the first node back reap every other); drops
    /// stored payloads every listener has had time to read.
    func beat() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: settings.heartbeatInterval)
            } catch {
                return
            }
            await expireHandOverWaits()
            do {
                try await withDeadline(settings.directoryTimeout) { try await self.heartbeat() }
            } catch {
                logger.debug("cluster heartbeat failed", metadata: ["cluster.error": "\(String(reflecting: error))"])
            }
        }
    }

    private func heartbeat() async throws {
        // Whether or not the listening connection is up: a node waiting to re-listen is alive, not dead.
        try await client.query("UPDATE cluster_nodes SET last_seen = now() WHERE node = \(node.rawValue)", logger: quietLogger)
        guard let since = status().connectedSince else { return }
        if ContinuousClock.now - since >= settings.deadAfter {
            try await reapDeadNodes()
            try await expireParkedSessions()
        }
        try await client.query("DELETE FROM cluster_payloads WHERE created_at < now() - interval '5 minutes'", logger: quietLogger)
        try await refreshPeers()
    }

    private func reapDeadNodes() async throws {
        let seconds = settings.deadAfter.secondsDouble
        try await client.withTransaction(logger: quietLogger) { connection in
            var dead: [NodeID] = []
            for try await id in try await connection.query(
                """
                SELECT node FROM cluster_nodes WHERE last_seen < now() - make_interval(secs => \(seconds))
                AND node <> \(node.rawValue) FOR UPDATE SKIP LOCKED
                """, logger: quietLogger
            ).decode(String.self) {
                dead.append(NodeID(id))
            }
            for id in dead {
                try await connection.query("DELETE FROM cluster_members WHERE node = \(id.rawValue)", logger: quietLogger)
                try await connection.query("DELETE FROM cluster_nodes WHERE node = \(id.rawValue)", logger: quietLogger)
                logger.warning("cluster node declared dead: its members leave their rooms", metadata: ["cluster.dead": "\(id)"])
            }
            try await notify(dead.map { (nil, BusEvent.nodeDown($0)) }, connection: connection)
        }
    }

    /// Parked sessions nobody resumed in time leave their rooms (`bye`, timeout, on every node).
    private func expireParkedSessions() async throws {
        let seconds = settings.parkedLifetime.secondsDouble
        try await client.withTransaction(logger: quietLogger) { connection in
            var expired: [(String, String)] = []
            for try await row in try await connection.query(
                """
                SELECT session, room FROM cluster_sessions WHERE parked_at < now() - make_interval(secs => \(seconds))
                FOR UPDATE SKIP LOCKED
                """, logger: quietLogger
            ).decode((String, String).self) {
                expired.append(row)
            }
            var events: [(NodeID?, BusEvent)] = []
            for (session, room) in expired {
                try await removeParked(session, connection: connection)
                if let room = RoomName(room) { events.append((nil, .left(SessionID(session), room: room, reason: .timeout))) }
            }
            try await notify(events, connection: connection)
        }
    }

    /// Leaves the cluster on shutdown: this node's members leave their rooms at once on every other node.
    func deregister() async {
        do {
            try await transaction { connection in
                try await connection.query("DELETE FROM cluster_members WHERE node = \(self.node.rawValue)", logger: self.quietLogger)
                try await connection.query("DELETE FROM cluster_nodes WHERE node = \(self.node.rawValue)", logger: self.quietLogger)
                try await self.notify([(nil, BusEvent.nodeDown(self.node))], connection: connection)
            }
            logger.info("cluster node left", metadata: ["cluster.node": "\(node)"])
        } catch {
            logger.warning("cluster node could not deregister; the others will time it out", metadata: ["cluster.error": "\(error)"])
        }
    }
}
