import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SignalingCore

/// The native JSON signaling protocol over WebSocket (`GET /ws`), documented in docs/PROTOCOL.md.
///
/// The route only moves bytes: frames are assembled (checking the size limit before parsing) and decoded on the
/// connection's event loop, handed to the hub, and the hub's messages are written back there.
public struct NativeWebSocketRoute: Sendable {
    let hub: SignalingHub
    let maxMessageBytes: Int
    let heartbeat: Duration
    let logger: Logger
    let origins: OriginPolicy

    /// Creates the route; messages larger than `maxMessageBytes` are refused with `frame_too_large`, and a client
    /// that leaves a ping unanswered for `heartbeat` is disconnected.
    public init(hub: SignalingHub, maxMessageBytes: Int, heartbeat: Duration, origins: OriginPolicy = .init(), logger: Logger) {
        self.hub = hub
        self.heartbeat = heartbeat
        self.maxMessageBytes = maxMessageBytes
        self.origins = origins
        self.logger = logger
    }

    /// Adds `GET path` with WebSocket upgrade to `router`.
    public func register(on router: Router<SignalingRequestContext>, path: RouterPath = "/ws") {
        router.ws(
            path,
            shouldUpgrade: { request, _ in
                try self.origins.check(request, logger: self.logger)
                return .upgrade([:])
            }
        ) { inbound, outbound, context in
            context.requestContext.upgradeCompleted()
            let address = ClientAddress(context.requestContext.remoteAddress?.ipAddress ?? "unknown")
            // A join token may come with the upgrade (`/ws?token=…`), for browsers that cannot set headers.
            let token = context.request.uri.queryParameters.get("token")
            await self.serve(
                inbound: inbound, outbound: outbound, channel: context.requestContext.channel, address: address, token: token)
        }
    }

    /// Serves one upgraded connection. Its frames are read and written on the channel's event loop by a
    /// ``WebSocketSignalingHandler``; this task runs what may wait (joins, the close handshake) and ends with
    /// the connection.
    func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, address: ClientAddress,
        token: String? = nil
    ) async {
        let prefix = (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        guard
            let (observer, handler) = try? await channel.eventLoop.submit({
                let handler = WebSocketSignalingHandler(
                    hub: self.hub, maxMessageBytes: self.maxMessageBytes, heartbeat: self.heartbeat, logger: self.logger)
                return (
                    try CloseFrameObserver.install(in: channel.pipeline.syncOperations), NIOLoopBound(handler, eventLoop: channel.eventLoop)
                )
            }).get()
        else { return }
        let connection = WebSocketConnection(handler: handler, channel: channel, commandPrefix: prefix, traffic: hub.traffic)
        let id = await hub.open(address: address, transport: .websocket, joinToken: token, sink: connection)
        var logger = self.logger
        logger[metadataKey: "sig.connection"] = "\(id)"
        logger[metadataKey: "sig.peer"] = "\(address)"
        if let session = await hub.session(for: id) {
            logger[metadataKey: "sig.session"] = "\(session)"
        }
        do {
            try await channel.eventLoop.submit {
                handler.value.connectionID = id
                handler.value.connection = connection
                let operations = channel.pipeline.syncOperations
                try operations.addHandler(handler.value, position: .after(observer))
            }.get()
        } catch {
            await hub.ended(id, clean: false)
            return
        }
        logger.debug("websocket connected")
        let end = await run(inbound: inbound, outbound: outbound, connection: connection, id: id, logger: logger)
        // A client's close frame, or a request that broke a limit, ends the session now; missed pings, a dropped
        // TCP connection or a slow consumer leave it to the grace period, so the client can resume.
        let clean = !connection.wasDroppedAsSlowConsumer && (end == .endedByRequest || observer.closeFrameReceived)
        await hub.ended(id, clean: clean)
        logger.debug("websocket disconnected")
    }

    enum ReadEnd {
        case streamEnded
        case failed
        case endedByRequest
    }

    /// Reads what reaches the task: frames that came before the handler was in place, and the handler's commands.
    private func run(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, connection: WebSocketConnection, id: ConnectionID,
        logger: Logger
    ) async -> ReadEnd {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: maxMessageBytes)
        var stopped = false
        do {
            for try await frame in inbound {
                switch connection.command(in: frame.data) {
                case .installed:
                    connection.resume()
                case .join(let text):
                    if case .request(let request) = assembler.append(text, startsMessage: true, isText: true, fin: true) {
                        await received(request, on: id)
                    }
                    connection.resume()
                case .close(let code, let reason):
                    try await outbound.close(code, reason: reason)
                case nil:
                    // A client frame that arrived before the handler was in place: the handler waits for these.
                    guard !stopped else { continue }
                    let outcome = assembler.append(
                        frame.data, startsMessage: frame.opcode != .continuation, isText: frame.opcode == .text, fin: frame.fin)
                    switch outcome {
                    case .incomplete: break
                    case .request(let request): await received(request, on: id)
                    case .rejected(let error, let fatal):
                        logger.debug("rejected request", metadata: ["sig.code": "\(error.code.rawValue)"])
                        _ = await hub.rejected(error, on: id)
                        stopped = fatal
                    }
                }
            }
            return connection.wasClosedByOwnRequest ? .endedByRequest : .streamEnded
        } catch {
            logger.debug("websocket read failed", metadata: ["error": "\(error)"])
            return connection.wasClosedByOwnRequest ? .endedByRequest : .failed
        }
    }

    private func received(_ request: ClientRequest, on id: ConnectionID) async {
        guard case .join = request.message else {
            _ = await hub.received(request, on: id)
            return
        }
        // In a child task, so the gate's deep calls leave no stack behind on this long-lived one.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await self.hub.received(request, on: id) }
        }
    }
}
