import NIOCore
import SocketIOProtocol

/// What runs on top of Engine.IO: the Socket.IO layer, or the echo of the conformance fixture.
public protocol EngineIOApplication: Sendable {
    /// A session opened.
    func opened(_ session: EngineIOSession) async
    /// A `message` packet arrived.
    func received(_ payload: EngineIOPacket.Payload, on session: EngineIOSession) async
    /// The session ended. `reason` is "client close" when the client closed it (a close packet or WebSocket
    /// close frame), else as the reference server names it: "transport close", "ping timeout", "forced close", …
    func closed(_ session: EngineIOSession, reason: String) async
    /// A `message` handled at once on the connection's event loop, when the application can without waiting;
    /// `false` leaves it to ``received(_:on:)``, in order with the packets after it.
    func receivedWithoutWaiting(_ payload: EngineIOPacket.Payload, on session: EngineIOSession) -> Bool
}

extension EngineIOApplication {
    /// Leaves every message to ``received(_:on:)``.
    public func receivedWithoutWaiting(_ payload: EngineIOPacket.Payload, on session: EngineIOSession) -> Bool { false }
}

/// One Engine.IO session: its transport, the packets waiting for it, its heartbeat.
///
/// Polling sessions hold at most one pending GET (it gets every queued packet at once) and one POST;
/// WebSocket sessions write straight to the connection through an ``EngineIOWebSocketSink``. An upgrade moves a
/// polling session to a WebSocket. The heartbeat is a timer on an event loop, not a task.
public actor EngineIOSession {
    /// The session id (also in the `open` packet).
    public nonisolated let sid: String
    /// The client's IP address, as the TCP connection that opened the session saw it.
    public nonisolated let remoteAddress: String?
    /// The WebSocket a WebSocket-only session opened on; such a session never changes transport, so its application
    /// may write to it directly, in order with the session's own writes. `nil` for a session that opened polling.
    nonisolated let openedOnWebSocket: EngineIOWebSocketSink?
    let configuration: EngineIOConfiguration
    private let application: any EngineIOApplication
    private let onEnd: @Sendable (String) async -> Void
    /// The event loop of the connection that opened the session; its timers run there.
    nonisolated let eventLoop: any EventLoop

    enum Transport { case polling, webSocket }
    private(set) var transport: Transport
    private(set) var isClosed = false
    private(set) var isUpgrading = false
    private var queue: [EngineIOPacket] = []
    /// Packets in `queue` that count toward the bound: binary attachments ride with their header packet.
    private var queuedCount = 0
    private var pendingPoll: CheckedContinuation<[EngineIOPacket], Never>?
    /// The HTTP connection the pending GET came on.
    private var pendingPollConnection: ObjectIdentifier?
    private(set) var postInProgress = false
    private var webSocket: EngineIOWebSocketSink?
    private var awaitingPong = false
    private var heartbeatTimer: Scheduled<Void>?
    /// Told the WebSocket once a polling session's upgrade completes, by the key they were registered with.
    private var upgradeObservers: [String: @Sendable (EngineIOWebSocketSink) -> Void] = [:]

    init(
        sid: String, remoteAddress: String?, transport: Transport, configuration: EngineIOConfiguration,
        application: any EngineIOApplication, eventLoop: any EventLoop, openedOnWebSocket: EngineIOWebSocketSink? = nil,
        onEnd: @escaping @Sendable (String) async -> Void
    ) {
        self.eventLoop = eventLoop
        self.openedOnWebSocket = openedOnWebSocket
        self.sid = sid
        self.remoteAddress = remoteAddress
        self.transport = transport
        self.configuration = configuration
        self.application = application
        self.onEnd = onEnd
    }

    /// The handshake this session announces.
    var handshake: EngineIOHandshake {
        EngineIOHandshake(
            sid: sid, upgrades: transport == .polling ? ["websocket"] : [],
            pingInterval: configuration.pingInterval.milliseconds, pingTimeout: configuration.pingTimeout.milliseconds,
            maxPayload: configuration.maxPayload)
    }

    func start() async {
        scheduleHeartbeat(.ping, after: configuration.pingInterval)
        await application.opened(self)
    }

    /// Queues a packet for the client (the application's way out).
    public func send(_ packet: EngineIOPacket) async {
        guard !isClosed else { return }
        if transport == .webSocket, let webSocket {
            webSocket.write([packet])
        } else if queuedCount >= configuration.maximumQueuedPackets {
            await end(reason: "slow consumer", notifyClient: true)
        } else {
            queue.append(packet)
            if case .text = packet.payload { queuedCount += 1 }
            flushPoll()
        }
    }

    /// Queues a `message`.
    public func send(message payload: EngineIOPacket.Payload) async {
        await send(EngineIOPacket(message: payload))
    }

    /// Ends the session (the application's way to close it).
    public func close() async {
        await end(reason: "forced close", notifyClient: true)
    }

    // MARK: Polling

    enum PollOutcome {
        case packets([EngineIOPacket])
        case refused
    }

    /// A GET: answers at once when packets wait, else when one comes (or the session ends or upgrades).
    func poll(on connection: ObjectIdentifier) async -> PollOutcome {
        guard !isClosed, transport == .polling else { return .refused }
        if pendingPoll != nil {
            // A second GET while one is pending breaks the protocol: the session ends.
            await end(reason: "transport error", notifyClient: true)
            return .refused
        }
        if isUpgrading { return .packets([EngineIOPacket(.noop)]) }
        if !queue.isEmpty {
            defer { clearQueue() }
            return .packets(queue)
        }
        pendingPollConnection = connection
        let packets = await withCheckedContinuation { pendingPoll = $0 }
        return .packets(packets)
    }

    /// An HTTP connection closed: if the pending GET came on it, the client gave up and the session ends.
    func pollCancelled(on connection: ObjectIdentifier) async {
        guard pendingPoll != nil, pendingPollConnection == connection, !isClosed else { return }
        await end(reason: "transport close", notifyClient: false)
    }

    private func clearQueue() {
        queue.removeAll()
        queuedCount = 0
    }

    private func flushPoll() {
        guard let pendingPoll, !queue.isEmpty else { return }
        self.pendingPoll = nil
        let packets = queue
        clearQueue()
        pendingPoll.resume(returning: packets)
    }

    private func releasePoll(with packet: EngineIOPacket) {
        guard let pendingPoll else { return }
        self.pendingPoll = nil
        pendingPoll.resume(returning: [packet])
    }

    /// Marks a POST as in progress; `false` if one already is (the session then ends).
    func beginPost() async -> Bool {
        guard !isClosed, transport == .polling, !postInProgress else {
            if postInProgress { await end(reason: "transport error", notifyClient: true) }
            return false
        }
        postInProgress = true
        return true
    }

    func endPost() { postInProgress = false }

    // MARK: Packets from the client

    /// Handles packets from a POST or a WebSocket frame; `false` if one was invalid here (the session ended).
    func receive(_ packets: [EngineIOPacket]) async -> Bool {
        for packet in packets {
            guard !isClosed else { return false }
            switch packet.type {
            case .message:
                await application.received(packet.payload, on: self)
            case .pong:
                pongReceived()
            case .close:
                await end(reason: "client close", notifyClient: false)
                return true
            case .open, .ping, .upgrade, .noop:
                // Not sent by v4 clients outside the upgrade handshake.
                await end(reason: "parse error", notifyClient: true)
                return false
            }
        }
        return true
    }

    /// The session ended because its transport failed (bad frame, closed socket).
    func transportFailed(_ reason: String) async {
        await end(reason: reason, notifyClient: false)
    }

    // MARK: WebSocket

    /// Attaches a WebSocket as this session's only transport (a WebSocket-only session, or a finished upgrade).
    func attach(webSocket sink: EngineIOWebSocketSink) {
        webSocket = sink
        transport = .webSocket
        isUpgrading = false
        sink.write(queue)
        clearQueue()
        if isClosed { sink.finish() }
        let observers = upgradeObservers.values
        upgradeObservers = [:]
        guard !isClosed else { return }
        for observer in observers { observer(sink) }
    }

    /// The WebSocket the session is on, or `nil` while it polls; `observer` then hears of the WebSocket once an
    /// upgrade completes (after what was queued for polling went out on it), unless ``forgetUpgradeObserver(_:)`` is
    /// called with `key` first. One call, so no upgrade falls between.
    func webSocket(
        orWhenUpgraded observer: @escaping @Sendable (EngineIOWebSocketSink) -> Void, key: String
    ) -> EngineIOWebSocketSink? {
        if transport == .webSocket, let webSocket { return webSocket }
        if !isClosed { upgradeObservers[key] = observer }
        return nil
    }

    /// The observer registered with `key` no longer needs to hear of an upgrade (its socket left).
    func forgetUpgradeObserver(_ key: String) {
        upgradeObservers[key] = nil
    }

    /// Whether a WebSocket may start upgrading this session.
    var canUpgrade: Bool { !isClosed && transport == .polling && !isUpgrading }

    /// A `2probe` on an upgrading WebSocket: the pending GET is released with a noop so the client can
    /// finish; `false` if this session cannot upgrade.
    func beginUpgrade() -> Bool {
        guard !isClosed, transport == .polling, !isUpgrading else { return false }
        isUpgrading = true
        releasePoll(with: EngineIOPacket(.noop))
        return true
    }

    /// The upgrade did not complete: polling goes on.
    func abandonUpgrade() {
        isUpgrading = false
    }

    // MARK: Heartbeat and end

    /// The two steps of a heartbeat round: ping after `pingInterval`, end the session if no pong within
    /// `pingTimeout`. A pong starts the next round, so pings follow pongs by `pingInterval`, as in the reference server.
    private enum HeartbeatStep {
        case ping
        case timeout
    }

    private func scheduleHeartbeat(_ step: HeartbeatStep, after delay: Duration) {
        heartbeatTimer?.cancel()
        // A timer holds no stack while it waits; only its firing runs a (short) task.
        heartbeatTimer = eventLoop.scheduleTask(in: TimeAmount(delay)) { [weak self] in
            guard let self else { return }
            Task { await self.heartbeat(step) }
        }
    }

    private func heartbeat(_ step: HeartbeatStep) async {
        guard !isClosed else { return }
        switch step {
        case .ping:
            awaitingPong = true
            scheduleHeartbeat(.timeout, after: configuration.pingTimeout)
            await send(EngineIOPacket(.ping))
        case .timeout:
            // A pong that came meanwhile started the next round.
            if awaitingPong { await end(reason: "ping timeout", notifyClient: false) }
        }
    }

    private func pongReceived() {
        guard awaitingPong else { return }
        awaitingPong = false
        scheduleHeartbeat(.ping, after: configuration.pingInterval)
    }

    private func end(reason: String, notifyClient: Bool) async {
        guard !isClosed else { return }
        isClosed = true
        heartbeatTimer?.cancel()
        if notifyClient {
            if let webSocket {
                webSocket.write([EngineIOPacket(.close)])
            } else {
                releasePoll(with: EngineIOPacket(.close))
            }
        } else {
            releasePoll(with: EngineIOPacket(.noop))
        }
        webSocket?.finish()
        clearQueue()
        upgradeObservers = [:]
        await onEnd(sid)
        await application.closed(self, reason: reason)
    }
}
