import Logging
import NIOCore
import SignalingCore

/// The live room core: owns `SignalingState` and the sinks of the connections it serves.
///
/// All transports (the native WebSocket, Socket.IO and SSE) feed this one actor, so a room can hold clients of
/// every kind. Requests are decoded before they reach it and encoded after they leave it, so the actor only
/// routes. It runs on one NIO event loop (a thread of its own in the server): a `/ws` connection's handler hands it
/// requests, and it writes frames back, with one hop each way and no task in between.
public actor SignalingHub {
    private var state: SignalingState
    private var sinks: [ConnectionID: any ConnectionSink] = [:]
    private var transports: [ConnectionID: SignalingTransport] = [:]
    private let events: SignalingEvents
    /// Checks joins before the core sees them (tokens, stored rooms); `nil` admits every join as asked.
    private nonisolated let gate: (any JoinGate)?
    /// Join tokens given when connecting (query parameter, Socket.IO auth), by connection.
    private var joinTokens: [ConnectionID: String] = [:]
    private var counters = SignalingStatistics.Counters()
    /// Passes of ``perform(_:)`` under way (see ``onHubLoop(_:)``).
    private var performDepth = 0
    /// Bytes in and out, counted by the transports without a hop to the hub.
    public nonisolated let traffic = SignalingTraffic()
    /// Where connection handlers on event loops send work that awaits (joins).
    public nonisolated let edgeWork = SignalingEdgeWork()
    private var nextConnection: UInt64 = 1
    private let clock = SystemClock()
    private let outboxLimit: Int
    private let logger: Logger
    /// The other nodes, when this one is part of a cluster.
    private var cluster: (any ClusterLink)?
    /// The loop the actor runs on.
    nonisolated let eventLoop: any EventLoop

    public nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }

    /// Creates a hub with the given room limits, running on `eventLoop`; `outboxLimit` bounds each connection's
    /// unsent messages, and `events` hears who enters and leaves rooms.
    public init(
        configuration: SignalingConfiguration, outboxLimit: Int, logger: Logger, eventLoop: any EventLoop,
        events: SignalingEvents = .init(), gate: (any JoinGate)? = nil
    ) {
        self.eventLoop = eventLoop
        self.gate = gate
        self.state = SignalingState(configuration: configuration)
        self.outboxLimit = outboxLimit
        self.logger = logger
        self.events = events
    }

    /// Sessions held, connected or in grace.
    public var sessionCount: Int { state.sessionCount }
    /// Rooms with members.
    public var roomCount: Int { state.roomCount }
    /// Open client connections, of every transport.
    public var connectionCount: Int { sinks.count }

    /// Each connection's bound on unwritten messages.
    nonisolated var sendLimit: Int { outboxLimit }

    /// Opens a connection whose messages go into a new ``Outbox``.
    func open(address: ClientAddress, transport: SignalingTransport, joinToken: String? = nil) -> (ConnectionID, Outbox) {
        let outbox = Outbox(limit: outboxLimit)
        return (open(address: address, transport: transport, joinToken: joinToken, sink: outbox), outbox)
    }

    /// Opens a connection whose messages go to `sink`.
    func open(address: ClientAddress, transport: SignalingTransport, joinToken: String? = nil, sink: any ConnectionSink)
        -> ConnectionID
    {
        let connection = ConnectionID(nextConnection)
        nextConnection += 1
        sinks[connection] = sink
        transports[connection] = transport
        if let joinToken, joinToken.utf8.count <= ClientRequest.maximumJoinTokenLength { joinTokens[connection] = joinToken }
        let actions = state.connectionOpened(
            connection, session: SessionID(SecureIdentifiers.sessionID()), token: SecureIdentifiers.resumeToken(),
            address: address, now: clock.now())
        perform(actions)
        return connection
    }

    /// Hands a decoded request to the hub without waiting, for a transport on an event loop; requests from one
    /// loop are handled in the order given. Joins go through ``received(_:on:)``, which runs the gate first.
    nonisolated func submit(_ request: ClientRequest, on connection: ConnectionID) {
        onHubLoop { hub in _ = hub.process(request, on: connection) }
    }

    /// ``submit(_:on:)`` for a Socket.IO `message(room, data)`, which names the room: when the sender is not in
    /// it, the request is dropped and the sender told `not_in_room`.
    nonisolated func submit(_ request: ClientRequest, on connection: ConnectionID, naming room: JSONValue) {
        onHubLoop { hub in
            guard room.stringValue == hub.room(of: connection)?.rawValue else {
                let error = SignalingError(
                    .notInRoom, "not in room \(room.serialized.prefix(80))", requestType: request.message.type)
                if hub.sinks[connection]?.send(OutboundMessage(seq: nil, message: .error(error))) == false {
                    hub.dropSlowConsumer(connection)
                }
                return
            }
            _ = hub.process(request, on: connection)
        }
    }

    /// Opens a connection from its event loop: `opened` gets its id on `eventLoop`, after any message the opening sent.
    nonisolated func submitOpen(
        address: ClientAddress, transport: SignalingTransport, joinToken: String?, sink: any ConnectionSink, on loop: any EventLoop,
        opened: @escaping @Sendable (ConnectionID) -> Void
    ) {
        onHubLoop { hub in
            let connection = hub.open(address: address, transport: transport, joinToken: joinToken, sink: sink)
            if loop.inEventLoop { opened(connection) } else { loop.execute { opened(connection) } }
        }
    }

    /// From now on, what `connection` is to receive goes to `successor` instead of `outbox` (a Socket.IO session that
    /// upgraded to a WebSocket); the outbox's writer finishes what it holds first. Nothing happens when the connection
    /// has ended or its sink is no longer `outbox`.
    nonisolated func submitHandOver(_ connection: ConnectionID, from outbox: Outbox, to successor: any ConnectionSink) {
        onHubLoop { hub in
            guard let current = hub.sinks[connection], current === outbox else { return }
            hub.sinks[connection] = successor
            outbox.handOver(to: successor)
        }
    }

    /// ``ended(_:clean:)`` without waiting, in order with ``submit(_:on:)``.
    nonisolated func submitEnded(_ connection: ConnectionID, clean: Bool) {
        onHubLoop { hub in hub.ended(connection, clean: clean) }
    }

    /// ``rejected(_:on:)`` without waiting, in order with ``submit(_:on:)``.
    nonisolated func submitRejected(_ error: SignalingError, on connection: ConnectionID) {
        onHubLoop { hub in _ = hub.rejected(error, on: connection) }
    }

    private nonisolated func onHubLoop(_ body: @escaping @Sendable (isolated SignalingHub) -> Void) {
        guard eventLoop.inEventLoop else {
            eventLoop.execute { self.assumeIsolated(body) }
            return
        }
        assumeIsolated { hub in
            guard hub.performDepth == 0 else {
                // Connections share the hub's loop, so a write in a pass can close its channel and have the end
                // reported from inside that pass: it waits for the pass, so what the pass sends keeps its order.
                hub.eventLoop.execute { self.assumeIsolated(body) }
                return
            }
            body(hub)
        }
    }

    /// Handles a decoded request; returns whether the connection stays open.
    ///
    /// A join first passes the gate on the caller's task (signature checks, database lookups and slow password
    /// hashes must not hold up the hub), then the core decides it.
    nonisolated func received(_ request: ClientRequest, on connection: ConnectionID) async -> Bool {
        await process(await admitted(request, on: connection), on: connection)
    }

    /// ``received(_:on:)`` for a request whose sender waits for an acknowledgement (a Socket.IO ack).
    nonisolated func received(acknowledging request: ClientRequest, on connection: ConnectionID) async -> Bool {
        await process(acknowledging: await admitted(request, on: connection), on: connection)
    }

    private nonisolated func admitted(_ request: ClientRequest, on connection: ConnectionID) async -> ClientRequest {
        guard let gate, case .join(var join) = request.message else { return request }
        // A member's join is refused by the core (already_in_room) without the gate's token and database work.
        guard let (token, address) = await joinContext(of: connection) else { return request }
        join.admission = await gate.admit(join, connectionToken: token, address: address)
        var admitted = request
        admitted.message = .join(join)
        return admitted
    }

    /// The join token and address of a connection whose session is in no room, when the join may proceed; `nil`
    /// otherwise.
    private func joinContext(of connection: ConnectionID) -> (String?, ClientAddress)? {
        guard let session = state.session(for: connection), state.room(of: session) == nil else { return nil }
        // A cluster node without its directory refuses the join at once (cluster_unavailable): no gate work.
        guard state.clusterStatus != .disconnected else { return nil }
        return (joinTokens[connection], state.address(of: connection) ?? ClientAddress("unknown"))
    }

    private func process(_ request: ClientRequest, on connection: ConnectionID) -> Bool {
        // A request read after the hub closed its connection (it broke a limit, it was kicked) is not acted on.
        guard let sink = sinks[connection] else { return false }
        perform(state.requestReceived(request, on: connection, now: clock.now()))
        return stillOpen(connection, sink: sink)
    }

    /// Whether the connection survived handling its request; tells its sink when the request closed it.
    private func stillOpen(_ connection: ConnectionID, sink: any ConnectionSink) -> Bool {
        if sinks[connection] != nil { return true }
        sink.closedByOwnRequest()
        return false
    }

    /// Handles a request whose sender waits for an acknowledgement (a Socket.IO ack): its direct,
    /// non-fatal replies go into one ``Outbox/Acknowledgement`` queued after everything else it caused.
    /// Returns whether the connection stays open.
    private func process(acknowledging request: ClientRequest, on connection: ConnectionID) -> Bool {
        guard sinks[connection] != nil else { return false }
        var actions = state.requestReceived(request, on: connection, now: clock.now())
        var replies: [ServerMessage] = []
        actions.removeAll { action in
            guard case .send(connection, let outbound) = action, outbound.seq == nil else { return false }
            switch outbound.message {
            case .error(let error) where !error.code.isFatal && error.requestID == request.id:
                replies.append(outbound.message)
                return true
            case .full(_, _, let requestID) where requestID == request.id:
                replies.append(outbound.message)
                return true
            default:
                return false
            }
        }
        perform(actions)
        guard let sink = sinks[connection] else { return false }
        let acknowledgement = Outbox.Acknowledgement(requestID: request.id, requestType: request.message.type, replies: replies)
        if !sink.acknowledge(acknowledgement) { dropSlowConsumer(connection) }
        return sinks[connection] != nil
    }

    /// The room a connection's session is in, if any.
    func room(of connection: ConnectionID) -> RoomName? {
        state.session(for: connection).flatMap { state.room(of: $0) }
    }

    /// Answers an undecodable frame; returns whether the connection stays open.
    func rejected(_ error: SignalingError, on connection: ConnectionID) -> Bool {
        guard let sink = sinks[connection] else { return false }
        perform(state.invalidFrameReceived(error, on: connection, now: clock.now()))
        return stillOpen(connection, sink: sink)
    }

    /// The connection ended; `clean` when the client closed it with a close frame.
    func ended(_ connection: ConnectionID, clean: Bool) {
        sinks.removeValue(forKey: connection)?.finish()
        transports.removeValue(forKey: connection)
        joinTokens.removeValue(forKey: connection)
        let now = clock.now()
        perform(clean ? state.connectionClosed(connection, now: now) : state.connectionLost(connection, now: now))
    }

    /// Rooms with members, for the admin API (with each member's transport).
    public func rooms() -> [(summary: RoomSummary, transports: [SessionID: SignalingTransport])] {
        state.roomSummaries.map { summary in
            var kinds: [SessionID: SignalingTransport] = [:]
            for member in summary.members {
                if let connection = state.connection(of: member.id), let transport = transports[connection] {
                    kinds[member.id] = transport
                }
            }
            return (summary, kinds)
        }
    }

    /// Removes a session (admin kick), on whichever node of a cluster serves it; `false` when there is none.
    public func kick(_ session: SessionID) -> Bool {
        guard let actions = state.sessionRemoved(session, error: SignalingError(.kicked, "removed by an administrator")) else {
            // Another node's member: that node removes it (its peers everywhere then see `bye`).
            guard let cluster, let remote = state.remoteMember(session) else { return false }
            logger.notice("session kick sent to its node", metadata: ["sig.session": "\(session)", "cluster.node": "\(remote.node)"])
            cluster.publish(.kick(session, room: remote.room, node: remote.node))
            return true
        }
        logger.notice("session kicked", metadata: ["sig.session": "\(session)"])
        perform(actions)
        return true
    }

    /// Closes a room, removing every member (admin); `false` when it has none.
    public func closeRoom(_ room: RoomName) -> Bool {
        guard let actions = state.roomClosed(room) else { return false }
        logger.notice("room closed", metadata: ["sig.room": "\(room)"])
        perform(actions)
        return true
    }

    /// Shutdown began: every connected client is told to reconnect within `within` seconds; joins are refused.
    public func drain(within: Int) {
        logger.notice("draining: clients told to reconnect", metadata: ["sig.sessions": "\(state.sessionCount)"])
        perform(state.drainStarted(within: within))
    }

    /// The drain is over: every connection is closed with `server_draining` (sessions stay for their grace
    /// period, but the process is about to stop; a cluster node hands them to the directory instead).
    public func closeAllConnections() {
        // A cluster node hands its sessions to the directory, so their clients resume on another node.
        perform(state.parkAll())
        let error = SignalingError(.serverDraining, "this server is shutting down; join through another node")
        for (connection, sink) in sinks {
            sink.close(error)
            sinks[connection] = nil
        }
    }

    /// What signaling is doing, for `/metrics`.
    public func statistics() -> SignalingStatistics {
        var connections: [SignalingTransport: Int] = [:]
        for transport in transports.values { connections[transport, default: 0] += 1 }
        return SignalingStatistics(
            connectionsByTransport: connections, sessions: state.sessionCount, rooms: state.roomCount, counters: counters,
            remoteMembers: state.remoteMemberCount)
    }

    // MARK: Cluster

    /// Makes this hub one node of a cluster: joins go through `link`'s directory from now on.
    public func attach(cluster link: any ClusterLink) {
        cluster = link
        state.clusterStatusChanged(.disconnected)
    }

    /// The directory became reachable or was lost (joins are refused with `cluster_unavailable` while it is).
    public func clusterStatusChanged(_ status: ClusterStatus) {
        state.clusterStatusChanged(status)
    }

    /// Applies what the directory committed, in order.
    public func clusterReceived(_ events: [ClusterEvent]) {
        for event in events {
            switch event {
            case .joinAdmitted(let session, let room, let capacity):
                perform(state.clusterJoinAdmitted(session, room: room, capacity: capacity))
            case .memberJoined(let member):
                perform(state.remoteMemberJoined(member))
            case .memberLeft(let session, let room, let reason):
                perform(state.remoteMemberLeft(session, room: room, reason: reason))
            case .delivery(let delivery):
                counters.countRemoteDelivery()
                perform(state.remoteDeliveryReceived(delivery, now: clock.now()))
            case .memberMoved(let session, let room, let node):
                state.remoteMemberMoved(session, room: room, to: node)
            case .resumeClaimed(let request, let parked, let mailbox):
                logger.info("session handed over from another node", metadata: ["sig.session": "\(parked.peer.id)"])
                perform(state.clusterResumeClaimed(request, parked: parked, mailbox: mailbox, now: clock.now()))
            case .kick(let session):
                _ = kick(session)
            case .handOver(let session):
                perform(state.handOverRequested(session))
            case .nodeDown(let node):
                logger.notice("cluster node down: its members leave their rooms", metadata: ["cluster.node": "\(node)"])
                perform(state.nodeDown(node))
            }
        }
    }

    /// The directory holds no parked session for a resume this node asked about.
    public func clusterResumeRefused(_ request: ClusterResumeRequest) {
        perform(state.clusterResumeRefused(request))
    }

    /// The directory refused a join this node asked for.
    public func clusterJoinRefused(_ request: ClusterJoinRequest, refusal: ClusterJoinRefusal) {
        perform(state.clusterJoinRefused(request, refusal: refusal))
    }

    /// The directory was read afresh: `members` lists every node's, this one's (`node`) included. Joins whose
    /// admission notice was missed complete now. Returns this node's own members, for the link to make the
    /// directory match them.
    public func clusterResynchronized(_ members: [RemoteMember], node: NodeID) -> [RemoteMember] {
        perform(state.clusterResynchronized(members.filter { $0.node != node }))
        for member in members where member.node == node && state.pendingJoin(of: member.peer.id) == member.room {
            perform(state.clusterJoinAdmitted(member.peer.id, room: member.room, capacity: member.capacity))
        }
        return state.localMembers(on: node)
    }

    /// Runs the core's periodic expiry.
    public func tick() {
        perform(state.timerFired(now: clock.now()))
    }

    /// The session id a connection speaks for (for log metadata).
    func session(for connection: ConnectionID) -> SessionID? {
        state.session(for: connection)
    }

    private func reportMembershipChanges() {
        let changes = state.takeMembershipChanges()
        if let cluster {
            for case .left(let session, let room, let reason) in changes {
                cluster.publish(.left(session, room: room, reason: reason))
            }
        }
        guard let report = events.membershipChanged else { return }
        for change in changes {
            var transport = SignalingTransport.websocket
            if case .entered(_, _, _, let connection) = change { transport = transports[connection] ?? .websocket }
            report(change, transport)
        }
    }

    private func dropSlowConsumer(_ connection: ConnectionID) {
        logger.notice(
            "closing slow consumer",
            metadata: [
                "sig.connection": "\(connection)", "sig.code": "\(SignalingErrorCode.slowConsumer.rawValue)", "sig.limit": "\(outboxLimit)",
            ])
        sinks.removeValue(forKey: connection)
        // Its session keeps its history and may resume within the grace period.
        perform(state.connectionLost(connection, now: clock.now()))
    }

    private func perform(_ actions: [SignalingAction]) {
        performDepth += 1
        defer { performDepth -= 1 }
        reportMembershipChanges()
        for action in actions {
            switch action {
            case .send(let connection, let message):
                counters.count(message.message)
                guard let sink = sinks[connection] else { continue }
                if !sink.send(message) { dropSlowConsumer(connection) }
            case .replay(let connection, let messages):
                guard let sink = sinks[connection] else { continue }
                if !sink.replay(messages) { dropSlowConsumer(connection) }
            case .close(let connection, let error):
                if let error {
                    // The one log line for a policy close; the client gets the same code.
                    logger.notice(
                        "closing connection", metadata: ["sig.connection": "\(connection)", "sig.code": "\(error.code.rawValue)"])
                }
                sinks.removeValue(forKey: connection)?.close(error)
            case .clusterJoin(let request):
                if cluster?.requestJoin(request) != true {
                    perform(state.clusterJoinRefused(request, refusal: .error(.serverDraining, "this server is shutting down")))
                }
            case .forward(let node, let delivery):
                counters.countForward()
                cluster?.publish(.delivery(node, delivery))
            case .park(let parked):
                cluster?.publish(.park(parked))
            case .clusterResume(let request):
                if cluster?.requestResume(request) != true {
                    perform(state.clusterResumeRefused(request))
                }
            }
        }
    }
}
