import HummingbirdWSClient
import Logging
import SignalingCore
import SocketIOProtocol
import Synchronization

/// A minimal Socket.IO v5 client over an Engine.IO WebSocket, for `bench socketio`: the "join/leave"
/// vocabulary with acks, which Switchboard and the python-socketio reference server both speak, so the
/// same load generator drives both.
final class SocketIOBenchConnection: Sendable {
    private let outbound: WebSocketOutboundWriter
    private let incomingSink: AsyncStream<BenchIncoming>.Continuation
    /// Partner payloads, errors and the end, as the benchmark reads them.
    let incoming: AsyncStream<BenchIncoming>
    private let pendingAcks = Mutex<[UInt64: CheckedContinuation<JSONValue?, Never>]>([:])
    private let nextAckID = Atomic<UInt64>(0)
    private let partnerJoined = Mutex<(joined: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    private init(outbound: WebSocketOutboundWriter) {
        self.outbound = outbound
        (incoming, incomingSink) = AsyncStream.makeStream(of: BenchIncoming.self)
    }

    /// Connects to `url` (`ws://host:port`), joins namespace `/`, runs `body`, then closes.
    static func withConnection<Result: Sendable>(
        url: String, _ body: @escaping @Sendable (SocketIOBenchConnection) async -> Result
    ) async throws -> Result? {
        var configuration = WebSocketClientConfiguration()
        configuration.maxFrameSize = 1 << 20
        configuration.closeTimeout = .seconds(2)
        let result = Mutex<Result?>(nil)
        try await WebSocketClient.connect(
            url: url + "/socket.io/?EIO=4&transport=websocket", configuration: configuration, logger: Logger(label: "bench")
        ) { inbound, outbound, _ in
            let connection = SocketIOBenchConnection(outbound: outbound)
            let (connected, connectedSink) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { connection.finish() }
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        guard case .text(let text) = message else { continue }
                        try await connection.receive(text, connected: connectedSink)
                    }
                }
                var waitForConnect = connected.makeAsyncIterator()
                guard await waitForConnect.next() != nil else { return }
                let value = await body(connection)
                result.withLock { $0 = value }
                try? await outbound.close(.normalClosure, reason: nil)
                try await group.waitForAll()
            }
        }
        return result.withLock { $0 }
    }

    private func receive(_ text: String, connected: AsyncStream<Void>.Continuation) async throws {
        switch text.first {
        case "0": try await outbound.write(.text("40"))  // Engine.IO open: join namespace "/"
        case "2": try await outbound.write(.text("3"))  // ping → pong
        case "4":
            let (packet, _) = try SocketIOPacket.parse(String(text.dropFirst()))
            switch packet.type {
            case .connect: connected.yield()
            case .event: event(packet)
            case .ack:
                guard let id = packet.id, case .array(let arguments)? = packet.data else { return }
                pendingAcks.withLock { $0.removeValue(forKey: id) }?.resume(returning: arguments.first)
            case .disconnect, .connectError: incomingSink.yield(.error("server disconnect"))
            case .binaryEvent, .binaryAck: break
            }
        default: break
        }
    }

    private func event(_ packet: SocketIOPacket) {
        guard let (name, arguments) = packet.event else { return }
        switch name {
        case "message" where arguments.count == 2: incomingSink.yield(.data(arguments[1]))
        case "otherjoin": markPartnerJoined()
        case "error": incomingSink.yield(.error(arguments.first?["code"]?.stringValue ?? "error"))
        default: break
        }
    }

    private func finish() {
        incomingSink.yield(.closed)
        incomingSink.finish()
        let waiters = pendingAcks.withLock { acks in
            defer { acks.removeAll() }
            return Array(acks.values)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        markPartnerJoined()
    }

    /// Emits `event` with `arguments` and waits for its ack's first argument (`nil` if the connection ended).
    func call(_ event: String, _ arguments: [JSONValue]) async -> JSONValue? {
        let id = nextAckID.add(1, ordering: .relaxed).newValue
        let text = "4" + SocketIOPacket(.event, id: id, data: .array([.string(event)] + arguments)).encoded
        return await withCheckedContinuation { ack in
            pendingAcks.withLock { $0[id] = ack }
            Task {
                guard (try? await self.outbound.write(.text(text))) == nil else { return }
                self.pendingAcks.withLock { $0.removeValue(forKey: id) }?.resume(returning: nil)
            }
        }
    }

    /// Emits `message(room, data)`; `false` once the connection is gone.
    func message(room: String, _ data: JSONValue) async -> Bool {
        let packet = SocketIOPacket(.event, data: ["message", .string(room), data])
        return (try? await outbound.write(.text("4" + packet.encoded))) != nil
    }

    private func markPartnerJoined() {
        let waiter = partnerJoined.withLock { state -> CheckedContinuation<Void, Never>? in
            state.joined = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns once an `otherjoin` came (or the connection ended).
    func waitForPartner() async {
        await withCheckedContinuation { continuation in
            let joined = partnerJoined.withLock { state -> Bool in
                if !state.joined { state.waiter = continuation }
                return state.joined
            }
            if joined { continuation.resume() }
        }
    }
}
