import HummingbirdWSClient
import Logging
import NIOCore

/// A client of the native signaling protocol (`/ws`), with automatic reconnect and resume.
///
/// Use it inside ``withConnection(to:configuration:_:)``, which runs the connection in a child task and
/// closes it when the body returns. Requests are queued in order; while reconnecting they wait and are
/// sent after the session resumes. Sequenced server messages are delivered exactly once.
public actor SignalingClient {
    /// How the client connects and recovers.
    public struct Configuration: Sendable {
        /// Reconnect and resume after a drop.
        public var reconnect = true
        /// First reconnect delay; doubles per failed attempt.
        public var initialReconnectDelay: Duration = .milliseconds(100)
        /// Longest delay between reconnect attempts.
        public var maximumReconnectDelay: Duration = .seconds(2)
        /// Give up after this many consecutive failed reconnects.
        public var maximumReconnectAttempts = 20
        /// How often the client acknowledges what it received (so the server can trim its history).
        public var acknowledgementInterval: Duration = .seconds(5)
        /// Logger for connection events.
        public var logger = Logger(label: "switchboard.client")

        /// The defaults.
        public init() {}
    }

    /// The `id` of the client's own acknowledgement pings, whose pongs are not reported.
    static let acknowledgementID = "_ack"

    enum Outgoing: Sendable {
        case text(String)
        case close
    }

    /// Everything the server says, and connection changes. Single consumer.
    public nonisolated let events: AsyncStream<SignalingEvent>
    private let eventSink: AsyncStream<SignalingEvent>.Continuation
    private let url: String
    private let configuration: Configuration

    private var writer: AsyncStream<Outgoing>.Continuation?
    private var pending: [Outgoing] = []
    private var token: String?
    private var lastSeq: UInt64 = 0
    private var isClosed = false
    private var hasConnected = false
    private var firstConnection: CheckedContinuation<Void, any Error>?
    private var firstConnectionResult: Result<Void, any Error>?

    /// The session id the server assigned, once joined or resumed.
    public private(set) var sessionID: SessionID?
    /// The highest sequence number received.
    public var lastReceivedSeq: UInt64 { lastSeq }

    init(url: String, configuration: Configuration) {
        self.url = url
        self.configuration = configuration
        (events, eventSink) = AsyncStream.makeStream(of: SignalingEvent.self)
    }

    /// Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`), runs `body`, then closes cleanly.
    /// Throws ``SignalingClientError/connectionFailed(_:)`` when the first connection fails.
    public static func withConnection<Result: Sendable>(
        to url: String, configuration: Configuration = .init(),
        _ body: @Sendable (SignalingClient) async throws -> Result
    ) async throws -> Result {
        let client = SignalingClient(url: url, configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.runConnections() }
            do {
                try await client.waitForFirstConnection()
                let result = try await body(client)
                await client.close()
                try await group.waitForAll()
                return result
            } catch {
                await client.close()
                group.cancelAll()
                throw error
            }
        }
    }

    // MARK: Requests

    /// Enters `room` (creating it with `capacity` and `password` if it does not exist).
    public func join(_ room: String, name: String? = nil, password: String? = nil, capacity: Int? = nil, id: JSONValue? = nil) throws {
        var fields: [String: JSONValue] = ["type": "join", "room": .string(room)]
        if let name { fields["name"] = .string(name) }
        if let password { fields["password"] = .string(password) }
        if let capacity { fields["capacity"] = .integer(Int64(capacity)) }
        if let id { fields["id"] = id }
        try send(raw: JSONValue.object(fields).serialized)
    }

    /// Relays `data` to `to`, or to every other member of the room.
    public func message(_ data: JSONValue, to: SessionID? = nil, id: JSONValue? = nil) throws {
        var fields: [String: JSONValue] = ["type": "message", "data": data]
        if let to { fields["to"] = .string(to.rawValue) }
        if let id { fields["id"] = id }
        try send(raw: JSONValue.object(fields).serialized)
    }

    /// Leaves the current room.
    public func leave() throws {
        try send(raw: #"{"type":"leave"}"#)
    }

    /// Sends `ping`, acknowledging everything received so far.
    public func ping(id: JSONValue? = nil) throws {
        var fields: [String: JSONValue] = ["type": "ping", "ack": .integer(Int64(clamping: lastSeq))]
        if let id { fields["id"] = id }
        try send(raw: JSONValue.object(fields).serialized)
    }

    /// Sends one raw text frame (for protocol tests and extensions).
    public func send(raw text: String) throws {
        guard !isClosed else { throw SignalingClientError.closed }
        if let writer {
            writer.yield(.text(text))
        } else {
            pending.append(.text(text))
        }
    }

    /// Closes the connection with a close frame: peers see `bye` at once. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if let writer {
            writer.yield(.close)
            writer.finish()
        }
        writer = nil
    }

    // MARK: Connection loop

    private func waitForFirstConnection() async throws {
        if let firstConnectionResult { return try firstConnectionResult.get() }
        try await withCheckedThrowingContinuation { firstConnection = $0 }
    }

    private func settleFirstConnection(_ result: Result<Void, any Error>) {
        guard firstConnectionResult == nil else { return }
        firstConnectionResult = result
        firstConnection?.resume(with: result)
        firstConnection = nil
    }

    private func runConnections() async {
        var failures = 0
        var delay = configuration.initialReconnectDelay
        while !isClosed && !Task.isCancelled {
            do {
                try await connectOnce()
                failures = 0
                delay = configuration.initialReconnectDelay
            } catch {
                configuration.logger.debug("connection failed", metadata: ["error": "\(error)"])
                if !hasConnected {
                    settleFirstConnection(.failure(SignalingClientError.connectionFailed("\(error)")))
                    break
                }
                failures += 1
            }
            writer = nil
            if isClosed || !configuration.reconnect || failures > configuration.maximumReconnectAttempts { break }
            eventSink.yield(.disconnected)
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, configuration.maximumReconnectDelay)
        }
        isClosed = true
        settleFirstConnection(.failure(SignalingClientError.closed))
        eventSink.yield(.closed)
        eventSink.finish()
    }

    private func connectOnce() async throws {
        var wsConfiguration = WebSocketClientConfiguration()
        wsConfiguration.maxFrameSize = 1 << 20
        wsConfiguration.closeTimeout = .seconds(2)
        try await WebSocketClient.connect(url: url, configuration: wsConfiguration, logger: configuration.logger) {
            inbound, outbound, _ in
            let (outgoing, sink) = AsyncStream.makeStream(of: Outgoing.self)
            await self.attach(sink)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await item in outgoing {
                        switch item {
                        case .text(let text): try await outbound.write(.text(text))
                        case .close:
                            try await outbound.close(.normalClosure, reason: nil)
                            return
                        }
                    }
                }
                group.addTask { await self.acknowledgePeriodically() }
                for try await message in inbound.messages(maxSize: 1 << 22) {
                    if case .text(let text) = message { await self.receive(text) }
                }
                group.cancelAll()
            }
        }
    }

    private func attach(_ sink: AsyncStream<Outgoing>.Continuation) {
        hasConnected = true
        if let token {
            // First frame on a new connection: take the old session back, with what we missed.
            sink.yield(
                .text(
                    JSONValue.object(["type": "resume", "token": .string(token), "last_seq": .integer(Int64(clamping: lastSeq))]).serialized
                ))
        }
        for item in pending { sink.yield(item) }
        pending.removeAll()
        if isClosed {
            sink.yield(.close)
            sink.finish()
        } else {
            writer = sink
        }
        settleFirstConnection(.success(()))
    }

    private func receive(_ text: String) {
        let message: OutboundMessage
        do {
            message = try OutboundMessage.decode(Array(text.utf8))
        } catch {
            configuration.logger.warning("undecodable server frame", metadata: ["error": "\(error)"])
            return
        }
        if let seq = message.seq {
            // A resume may replay what already arrived: deliver each sequenced message once.
            guard seq > lastSeq else { return }
            lastSeq = seq
        }
        switch message.message {
        case .joined(_, let id, _, _, let token):
            sessionID = id
            self.token = token
        case .resumed(_, let id, _, _):
            sessionID = id
        case .pong(let id) where id == .string(Self.acknowledgementID):
            return
        case .error(let error) where error.code == .resumeFailed || error.code == .resumeGap:
            // The old session is gone; the app must join again.
            token = nil
            lastSeq = 0
        default:
            break
        }
        eventSink.yield(.message(message.message))
    }

    private func acknowledgePeriodically() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.acknowledgementInterval)
            } catch {
                return
            }
            if let writer, token != nil {
                let ack: JSONValue = ["type": "ping", "ack": .integer(Int64(clamping: lastSeq)), "id": .string(Self.acknowledgementID)]
                writer.yield(.text(ack.serialized))
            }
        }
    }
}
