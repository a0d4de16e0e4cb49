import Logging
import PostgresNIO
import Signaling
import SignalingCore
import Storage

extension PostgresCluster {
    /// Thrown to leave the listening loop and synchronise again (this node was declared dead by the others).
    struct ResynchroniseNeeded: Error {}

    /// Keeps one connection listening: on each (re)connection the node registers, reads the directory afresh and
    /// reconciles, then applies notifications in order. A lost connection marks the node disconnected (joins are
    /// refused meanwhile) and is retried with jittered exponential back-off.
    func listen() async {
        var backoff = Duration.milliseconds(250)
        var failing = false
        while !Task.isCancelled {
            do {
                let configuration = try location.connectionConfiguration()
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: quietLogger)
                do {
                    try await connection.listen(on: settings.channel) { notifications in
                        // Bounded like every directory call; it reads the whole directory, so it gets longer.
                        try await withDeadline(settings.directoryTimeout * 3) { try await self.synchronize() }
                        backoff = .milliseconds(250)
                        if failing { logger.notice("cluster directory reachable again", metadata: ["cluster.node": "\(node)"]) }
                        failing = false
                        for try await notification in notifications {
                            try await receive(notification.payload)
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch is ResynchroniseNeeded {
                logger.warning("this node was declared dead by the cluster: registering again", metadata: ["cluster.node": "\(node)"])
                continue
            } catch {
                if !failing && !Task.isCancelled {
                    logger.warning(
                        "cluster directory unreachable: joins are refused until it is back",
                        metadata: ["cluster.node": "\(node)", "cluster.error": "\(String(reflecting: error))"])
                }
                failing = true
            }
            view.withLock { $0.connectedSince = nil }
            await hub.clusterStatusChanged(.disconnected)
            let jittered = backoff * Double.random(in: 0.5...1.5)
            // Capped well under the dead-node bound, so an outage's end finds every node back before any is reaped.
            backoff = min(backoff * 2, .seconds(5), settings.deadAfter / 3)
            try? await Task.sleep(for: jittered)
        }
    }

    /// Registers this node, reads the whole directory and makes this node and the directory agree: other nodes'
    /// members as listed; this node's members as it has them (rows of sessions that ended meanwhile go, members
    /// the directory lost come back). Runs after LISTEN, so no change committed later is missed.
    func synchronize() async throws {
        try await ensureSchema()
        try await client.query(
            """
            INSERT INTO cluster_nodes (node, name) VALUES (\(node.rawValue), \(settings.nodeName))
            ON CONFLICT (node) DO UPDATE SET last_seen = now()
            """, logger: quietLogger)
        var members: [RemoteMember] = []
        let rows = try await client.query(
            """
            SELECT m.session, m.room, m.node, m.name, m.identity, m.can_publish, r.capacity
            FROM cluster_members m JOIN cluster_rooms r ON r.name = m.room ORDER BY m.joined_at
            """, logger: quietLogger)
        for try await (session, room, node, name, identity, canPublish, capacity) in rows.decode(
            (String, String, String, String?, String?, Bool, Int).self)
        {
            guard let room = RoomName(room) else { continue }
            members.append(
                RemoteMember(
                    peer: PeerInfo(id: SessionID(session), name: name, identity: identity, canPublish: canPublish), room: room,
                    node: NodeID(node), capacity: capacity))
        }
        try await refreshPeers()
        let listed = Set(members.filter { $0.node == node }.map(\.peer.id))
        // Claims whose `moved` notice the lost connection swallowed: the directory says they are ours.
        let claimed = pendingClaims.withLock { claims in listed.compactMap { claims.removeValue(forKey: $0) } }
        let local = await hub.clusterResynchronized(members, node: node)
        await hub.clusterReceived(claimed.map { .resumeClaimed($0.request, $0.parked, mailbox: $0.mailbox) })
        let kept = Set(local.map(\.peer.id)).union(claimed.map(\.parked.peer.id))
        let lost = local.filter { !listed.contains($0.peer.id) }
        let ended = listed.subtracting(kept)
        if !lost.isEmpty || !ended.isEmpty {
            try await client.withTransaction(logger: quietLogger) { connection in
                for session in ended {
                    try await connection.query(
                        "DELETE FROM cluster_members WHERE session = \(session.rawValue) AND node = \(node.rawValue)", logger: quietLogger)
                }
                for member in lost {
                    try await insertRoomIfAbsent(member.room, capacity: member.capacity, connection: connection)
                    try await insert(member, connection: connection)
                }
                try await notify(lost.map { (nil, BusEvent.joined($0)) }, connection: connection)
            }
            logger.notice(
                "cluster directory reconciled", metadata: ["cluster.registered": "\(lost.count)", "cluster.removed": "\(ended.count)"])
        }
        view.withLock { $0.connectedSince = .now }
        await hub.clusterStatusChanged(.connected)
        logger.info(
            "cluster connected",
            metadata: [
                "cluster.node": "\(node)", "cluster.name": "\(settings.nodeName)", "cluster.peers": "\(status().peers.count)",
                "cluster.remote_members": "\(members.count - listed.count)",
            ])
    }

    /// Reads the live nodes.
    func refreshPeers() async throws {
        var peers: [NodeID: String] = [:]
        for try await (id, name) in try await client.query("SELECT node, name FROM cluster_nodes", logger: quietLogger).decode(
            (String, String).self)
        where id != node.rawValue {
            peers[NodeID(id)] = name
        }
        view.withLock { $0.peers = peers }
    }

    /// Applies one notification. Batches for other nodes are skipped by their header; a malformed one, or one from
    /// a node the directory does not list, is logged and dropped without touching anything else.
    func receive(_ payload: String) async throws {
        let header: BusHeader
        do {
            header = try BusHeader(parsing: payload)
        } catch {
            return reject(payload, because: "\(error)")
        }
        guard header.isFor(node) else { return }
        var body: String?
        if let stored = header.storedPayload {
            for try await text in try await client.query("SELECT body FROM cluster_payloads WHERE id = \(stored)", logger: quietLogger)
                .decode(String.self)
            {
                body = text
            }
            guard body != nil else { return reject(payload, because: "payload \(stored) is gone") }
        }
        let batch: BusBatch
        do {
            batch = try BusBatch(parsing: payload, body: body)
        } catch {
            return reject(payload, because: "\(error)")
        }
        if batch.from != node, status().peers[batch.from] == nil {
            try await refreshPeers()
            guard status().peers[batch.from] != nil else {
                return reject(payload, because: "it comes from node '\(batch.from.rawValue.prefix(32))', which the directory does not list")
            }
        }
        counters.withLock {
            $0.notificationsReceived &+= 1
            $0.bytesReceived &+= UInt64(payload.utf8.count + (body?.utf8.count ?? 0))
        }
        var events: [ClusterEvent] = []
        events.reserveCapacity(batch.events.count)
        for event in batch.events {
            switch event {
            case .joined(let member) where member.node == node:
                events.append(.joinAdmitted(member.peer.id, room: member.room, capacity: member.capacity))
            case .joined(let member):
                events.append(.memberJoined(member))
            case .left(let session, let room, let reason):
                events.append(.memberLeft(session, room: room, reason: reason))
            case .delivery(let delivery):
                events.append(.delivery(delivery))
            case .moved(let session, let room, let target) where target == node:
                // A resume here claimed it: complete it now that everything committed before has been applied.
                if let claim = pendingClaims.withLock({ $0.removeValue(forKey: session) }), claim.parked.room == room {
                    events.append(.resumeClaimed(claim.request, claim.parked, mailbox: claim.mailbox))
                }
            case .moved(let session, let room, let target):
                events.append(.memberMoved(session, room: room, node: target))
                if target == .parked, let waiting = awaitingHandOver.withLock({ $0.removeValue(forKey: session) }) {
                    // Its node handed it over: claim it now (after this batch, so the hub knows it is parked).
                    requestsContinuation.yield(.resume(waiting.request))
                }
            case .kick(let session):
                events.append(.kick(session))
            case .handOver(let session):
                events.append(.handOver(session))
            case .nodeDown(let dead) where dead == node:
                await hub.clusterReceived(events)
                throw ResynchroniseNeeded()
            case .nodeDown(let dead):
                _ = view.withLock { $0.peers.removeValue(forKey: dead) }
                events.append(.nodeDown(dead))
            }
        }
        await hub.clusterReceived(events)
    }

    private func reject(_ payload: String, because reason: String) {
        counters.withLock { $0.payloadsRejected &+= 1 }
        logger.warning(
            "cluster bus payload dropped", metadata: ["cluster.reason": "\(reason)", "cluster.bytes": "\(payload.utf8.count)"])
    }
}
